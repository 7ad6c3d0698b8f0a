import FirebreakAPI
import Foundation
import Incidents

extension Drill {
    // MARK: the attack and the response

    /// Plants the hubs, schedules the scan, and follows the response to its end: quarantine,
    /// freeze, rebuild behind BM25, validation, then a rollback to last-clean under load.
    func contain(_ report: inout DrillReport, threshold: Double, golden: [Int], load: DrillLoad) async throws {
        try await Task.sleep(for: .seconds(1))
        _ = try await call("POST", path + "/documents", IngestBody(documents: (0..<settings.hubs).map(corpus.hub)),
                           as: IngestResultBody.self)
        progress("planted \(settings.hubs) hubs; scheduling HubScan every \(settings.scanEvery) s with auto-contain")
        let (entries, observedAt) = try await scheduled(ScheduleBody(everySeconds: settings.scanEvery, policy: "auto-contain",
                                                                     settings: ScanSettingsBody(threshold: threshold))) {
            try await waitForQuarantine()
        }
        let incident = entries.first?.incidentID ?? ""
        report.incidentID = incident
        let quarantined = Set(entries.map(\.id))
        report.quarantinedIDs = quarantined.sorted()
        report.hubsDetected = (0..<settings.hubs).filter { quarantined.contains("hub-\($0)") }.count
        report.cleanDocumentsQuarantined = quarantined.filter { !$0.hasPrefix("hub-") }.count
        let declared = try await timeline(incident).first.flatMap { parseTime($0.at) }
        let lastQuarantine = entries.compactMap { parseTime($0.quarantinedAt) }.max()
        // Judged from when the list that named them came back: each was withheld before it
        // was committed, so a search sent after that must not return it. (`quarantined_at` is
        // the transaction's start in whole milliseconds: it can precede the withhold itself.)
        report.containedAt = observedAt
        if let declared, let lastQuarantine { report.containmentSeconds = lastQuarantine.timeIntervalSince(declared) }
        let status = try await call("GET", path, as: CollectionBody.self)
        report.frozen = status.flags.contains { $0.flag == "FF_INDEX_FREEZE" }
        progress("\(incident): \(quarantined.count) quarantined (\(report.hubsDetected) of \(settings.hubs) hubs), frozen: \(report.frozen)")

        report.rebuildSeconds = try await waitForRebuild(incident, validation: &report.rebuildValidation)
        report.mrrAfter = try await meanReciprocalRank(golden)
        progress("rebuilt in \(format(report.rebuildSeconds)) s; MRR@10 after: \(format(report.mrrAfter))")
        try await Task.sleep(for: .milliseconds(500))
        let started = Date()
        let rolled = try await call("POST", path + "/rollback", RollbackBody(snapshotID: "last-clean", incidentID: incident),
                                    as: RollbackResultBody.self)
        report.rollbackSeconds = rolled.seconds
        report.rollbackClientSeconds = Date().timeIntervalSince(started)
        report.retiredByRollback = rolled.retired
        progress("rolled back to \(rolled.snapshotID) in \(format(report.rollbackSeconds)) s under load")
        try await Task.sleep(for: .seconds(1))
    }

    /// Runs `body` with `schedule` in force, and disables the schedule afterwards.
    func scheduled<T>(_ schedule: ScheduleBody, _ body: () async throws -> T) async throws -> T {
        _ = try await call("PUT", path + "/scan-schedule", schedule, as: ScheduleBody.self)
        var off = schedule
        off.enabled = false
        do {
            let result = try await body()
            _ = try await call("PUT", path + "/scan-schedule", off, as: ScheduleBody.self)
            return result
        } catch {
            _ = try? await call("PUT", path + "/scan-schedule", off, as: ScheduleBody.self)
            throw error
        }
    }

    /// Polls the quarantine list until the scheduled scan's containment shows up; the entries,
    /// and when the list naming them came back (every one was in force by then).
    func waitForQuarantine() async throws -> (entries: [QuarantineEntryBody], observedAt: Date) {
        let deadline = Date().addingTimeInterval(containmentWaitSeconds)
        while Date() < deadline {
            let entries = try await call("GET", path + "/quarantine", as: QuarantineListBody.self).entries
            if !entries.isEmpty {
                try await Task.sleep(for: .milliseconds(200))
                let settled = try await call("GET", path + "/quarantine", as: QuarantineListBody.self).entries
                return (settled, Date())
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DrillError(.timedOut, "no scheduled scan quarantined anything within \(Int(containmentWaitSeconds)) s")
    }

    /// Waits for the rebuild auto-contain started; its duration from the timeline.
    func waitForRebuild(_ incident: String, validation: inout [String: PayloadValue]) async throws -> Double? {
        let deadline = Date().addingTimeInterval(Self.jobWaitSeconds)
        while Date() < deadline {
            let events = try await timeline(incident)
            let started = events.first { $0.kind == .rebuildStarted }
            if let ended = events.first(where: { EventKind.rebuildEnds.contains($0.kind) }) {
                let end: RebuildEnded
                do { end = try ended.decoded(RebuildEnded.self) } catch {
                    throw DrillError(.rebuildFailed, "the rebuild's end event does not read: \(error.message)")
                }
                guard end.state == .succeeded else {
                    throw DrillError(.rebuildFailed, "the rebuild ended \(end.state.rawValue): \(end.error ?? "no reason recorded")")
                }
                validation = end.validation[DrillCorpus.tenant] ?? [:]
                guard let from = parseTime(started?.at), let to = parseTime(ended.at) else { return nil }
                return to.timeIntervalSince(from)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DrillError(.timedOut, "the rebuild did not finish within \(Int(Self.jobWaitSeconds)) s")
    }

    // MARK: closing the incident

    /// Lifts the freeze after a clean scan, resolves the incident and writes the postmortem.
    func close(_ report: inout DrillReport, threshold: Double) async throws {
        guard let incident = report.incidentID else { return }
        let scan = try await call("POST", path + "/scans", ScanRequestBody(settings: ScanSettingsBody(threshold: threshold),
                                                                           tenant: DrillCorpus.tenant), as: ScanResultBody.self)
        if scan.maxZ < threshold {
            _ = try await call("PUT", path + "/flags/FF_INDEX_FREEZE",
                               SetFlagBody(enabled: false, incidentID: incident, tenant: DrillCorpus.tenant), as: FlagResultBody.self)
            report.freezeLifted = true
        }
        if report.freezeLifted {
            report.hubsHeldAtIngest = try await plantAtIngest(threshold: threshold)
        } else {
            report.notes.append("the freeze was not lifted (the closing scan was not clean), so no hub was planted through ingest")
        }
        for status in ["mitigated", "resolved"] {
            let body = TransitionBody(status: status, reason: "drill: hubs quarantined, graph rebuilt, rolled back to last-clean")
            let reply = try await client.send("POST", "/v1/incidents/\(incident)/transition", body: body)
            if !reply.isSuccess { report.notes.append("transition to \(status) refused: \(reply.problem?.detail ?? "\(reply.status)")") }
        }
        report.incidentStatus = try await call("GET", "/v1/incidents/\(incident)", as: IncidentBody.self).status
        let markdown = try await send("GET", "/v1/incidents/\(incident)/postmortem").body
        try FileManager.default.createDirectory(atPath: settings.postmortemDir, withIntermediateDirectories: true)
        let file = URL(fileURLWithPath: settings.postmortemDir).appendingPathComponent("drill-\(incident).md").standardizedFileURL.path
        try markdown.write(to: URL(fileURLWithPath: file))
        report.postmortemPath = file
    }

    /// With auto-contain scheduled again, a hub planted through ingest must be held on arrival
    /// by the ingest screen (the scan just run built it). Returns how many were held (0 or 1).
    func plantAtIngest(threshold: Double) async throws -> Int {
        var late = corpus.hub(settings.hubs % settings.topics)
        late.id = "hub-at-ingest"
        let answer = try await scheduled(ScheduleBody(everySeconds: 3_600, policy: "auto-contain",
                                                      settings: ScanSettingsBody(threshold: threshold))) {
            try await call("POST", path + "/documents", IngestBody(documents: [late]), as: IngestResultBody.self)
        }
        let held = answer.held.contains("hub-at-ingest")
        let screened = answer.screened.first { $0.id == "hub-at-ingest" }
        progress("a hub planted through ingest was \(held ? "held on arrival" : "NOT held") by the ingest screen (z \(screened.map { format($0.z) } ?? "below the threshold"))")
        return held ? 1 : 0
    }

    // MARK: measurements

    /// Judges every answer the load saw: failures, quarantined documents returned after the
    /// last quarantine committed, and MRR of the golden queries answered by BM25 (degraded).
    func judge(_ answers: [DrillLoad.Answer], into report: inout DrillReport) {
        report.queriesAnswered = answers.count
        report.failedQueries = answers.filter { !$0.ok }.count
        let quarantined = Set(report.quarantinedIDs)
        if let containedAt = report.containedAt {
            let leaks = answers.filter { $0.sent > containedAt && $0.ids.contains(where: quarantined.contains) }
            report.quarantinedReturned = leaks.count
            for leak in leaks.prefix(Self.leaksNamedMax) {
                let ids = leak.ids.filter(quarantined.contains).joined(separator: ", ")
                report.notes.append(String(format: "LEAK: an answer sent %.3f s after containment returned %@ (degraded: %@)",
                                           leak.sent.timeIntervalSince(containedAt), ids, leak.degraded ? "yes" : "no"))
            }
        }
        let degraded = answers.filter { $0.ok && $0.degraded && $0.relevant != nil }
        report.degradedAnswers = answers.filter(\.degraded).count
        if !degraded.isEmpty {
            report.mrrDuring = degraded.reduce(0) { $0 + reciprocalRank($1.ids, relevant: $1.relevant!) } / Double(degraded.count)
        } else {
            report.notes.append("no golden query was answered while the rebuild ran; mrr_at_10.during is null")
        }
    }

    func meanReciprocalRank(_ rows: [Int]) async throws -> Double {
        var total = 0.0
        for row in rows {
            let answer = try await call("POST", path + "/search", corpus.golden(row, seed: settings.seed), as: SearchResultBody.self)
            total += reciprocalRank(answer.results.map(\.id), relevant: corpus.id(row))
        }
        return total / Double(max(rows.count, 1))
    }

    /// Golden queries, and probes at each hub's topic centre (which a served hub would top).
    func loadQueries(_ golden: [Int]) throws -> [DrillLoad.Query] {
        let queries = try golden.map { row in
            DrillLoad.Query(body: try JSONEncoder.api.encode(corpus.golden(row, seed: settings.seed)), relevant: corpus.id(row))
        }
        let probes = try (0..<settings.hubs).map { i in
            DrillLoad.Query(body: try JSONEncoder.api.encode(SearchBody(mode: "vector", vector: corpus.centres[i], k: 10,
                                                                        tenant: DrillCorpus.tenant)), relevant: nil)
        }
        var mixed: [DrillLoad.Query] = []
        for (index, query) in queries.enumerated() {
            mixed.append(query)
            if index % 4 == 0 { mixed.append(probes[(index / 4) % probes.count]) }
        }
        return mixed
    }
}
