import ArgumentParser
import Foundation
import Server

/// The game day's steps, in order, against one service (see `DrillCommand`).
struct Drill {
    let settings: DrillCommand
    let client: APIClient
    let corpus: DrillCorpus
    let collection: String
    let path: String
    /// How long the drill waits for the scheduled scan to contain the hubs.
    var containmentWaitSeconds: Double { Double(settings.scanEvery) * 3 + 60 }
    static let jobWaitSeconds = 900.0

    init(settings: DrillCommand, client: APIClient) {
        self.settings = settings
        self.client = client
        corpus = DrillCorpus(documents: settings.documents, dimension: settings.dimension, clusters: settings.topics,
                             seed: settings.seed)
        collection = "drill-\(Int(Date().timeIntervalSince1970))-\(UInt16.random(in: 0...UInt16.max))"
        path = "/v1/collections/\(collection)"
    }

    func run() async throws -> DrillReport {
        var report = DrillReport(collection: collection, hubsPlanted: settings.hubs)
        try await ingest()
        let golden = (0..<settings.goldenQueries).map { $0 * settings.documents / settings.goldenQueries }
        report.mrrBefore = try await meanReciprocalRank(golden)
        Console.progress("MRR@10 of \(golden.count) golden queries: \(format(report.mrrBefore))")
        // The same queries (vector only) become the service's golden set: every rebuild is held to them.
        _ = try await object("PUT", path + "/golden-queries", ["queries": golden.map { row -> [String: Any] in
            let query = corpus.golden(row, seed: settings.seed)
            return ["tenant": DrillCorpus.tenant, "vector": query["vector"]!, "relevant": [corpus.id(row)]]
        }])

        let cleanMaxZ = try await object("POST", path + "/scans", ["tenant": DrillCorpus.tenant])["max_z"] as? Double ?? 0
        let threshold = settings.threshold ?? max(5, (cleanMaxZ * 1.2 * 10).rounded(.up) / 10)
        report.cleanMaxZ = cleanMaxZ
        report.threshold = threshold
        Console.progress("clean collection: highest z \(format(cleanMaxZ)); threshold \(format(threshold))")
        let snapshot = try await object("POST", path + "/snapshots", [:])
        let snapshotID = snapshot["id"] as? String ?? ""
        let verified = try await object("POST", path + "/snapshots/\(snapshotID)/verify", ["threshold": threshold])
        guard verified["clean"] as? Bool == true else {
            throw ValidationError("the clean snapshot did not verify clean (max z \(verified["max_z"] ?? "?") ≥ \(threshold)); pass a higher --threshold")
        }
        Console.progress("snapshot \(snapshotID) verified clean (root hash \(String((snapshot["root_hash"] as? String ?? "").prefix(12)))…)")

        let load = DrillLoad()
        load.start(client: client, path: path + "/search", queries: try loadQueries(golden), clients: settings.clients)
        do {
            try await contain(&report, threshold: threshold, golden: golden, load: load)
            await load.stop()
        } catch {
            await load.stop()
            throw error
        }
        judge(load.recorded, into: &report)
        try await close(&report, threshold: threshold)
        return report
    }

    // MARK: steps

    private func ingest() async throws {
        _ = try await object("POST", "/v1/collections", ["name": collection, "dimension": settings.dimension, "metric": "cosine"])
        let batch = 500
        for start in stride(from: 0, to: settings.documents, by: batch) {
            let rows = start..<min(start + batch, settings.documents)
            _ = try await object("POST", path + "/documents", ["documents": rows.map(corpus.document)])
            Console.progress("ingested \(rows.upperBound) / \(settings.documents) documents")
        }
    }

    /// Plants the hubs, schedules the scan, and follows the response to its end: quarantine,
    /// freeze, rebuild behind BM25, validation, then a rollback to last-clean under load.
    private func contain(_ report: inout DrillReport, threshold: Double, golden: [Int], load: DrillLoad) async throws {
        try await Task.sleep(for: .seconds(1))
        _ = try await object("POST", path + "/documents", ["documents": (0..<settings.hubs).map(corpus.hub)])
        Console.progress("planted \(settings.hubs) hubs; scheduling HubScan every \(settings.scanEvery) s with auto-contain")
        let schedule: [String: Any] = ["every_seconds": settings.scanEvery, "policy": "auto-contain", "threshold": threshold]
        _ = try await object("PUT", path + "/scan-schedule", schedule)
        let entries = try await waitForQuarantine()
        _ = try await object("PUT", path + "/scan-schedule", schedule.merging(["enabled": false]) { $1 })
        let incident = entries.first?["incident_id"] as? String ?? ""
        report.incidentID = incident
        let quarantined = Set(entries.compactMap { $0["id"] as? String })
        report.quarantinedIDs = quarantined.sorted()
        report.hubsDetected = (0..<settings.hubs).filter { quarantined.contains("hub-\($0)") }.count
        report.cleanDocumentsQuarantined = quarantined.filter { !$0.hasPrefix("hub-") }.count
        let events = try await timeline(incident)
        let declared = events.first.flatMap { parseTime($0["at"] as? String) }
        let lastQuarantine = entries.compactMap { parseTime($0["quarantined_at"] as? String) }.max()
        report.containedAt = lastQuarantine
        if let declared, let lastQuarantine { report.containmentSeconds = lastQuarantine.timeIntervalSince(declared) }
        let status = try await object("GET", path)
        report.frozen = (status["flags"] as? [[String: Any]] ?? []).contains { $0["flag"] as? String == "FF_INDEX_FREEZE" }
        Console.progress("\(incident): \(quarantined.count) quarantined (\(report.hubsDetected) of \(settings.hubs) hubs), frozen: \(report.frozen)")

        report.rebuildSeconds = try await waitForRebuild(incident, validation: &report.rebuildValidation)
        report.mrrAfter = try await meanReciprocalRank(golden)
        Console.progress("rebuilt in \(format(report.rebuildSeconds)) s; MRR@10 after: \(format(report.mrrAfter))")
        try await Task.sleep(for: .milliseconds(500))
        let started = Date()
        let rolled = try await object("POST", path + "/rollback", ["snapshot_id": "last-clean", "incident_id": incident])
        report.rollbackSeconds = rolled["seconds"] as? Double
        report.rollbackClientSeconds = Date().timeIntervalSince(started)
        report.retiredByRollback = rolled["retired"] as? Int ?? 0
        Console.progress("rolled back to \(rolled["snapshot_id"] ?? "?") in \(format(report.rollbackSeconds)) s under load")
        try await Task.sleep(for: .seconds(1))
    }

    /// Polls the quarantine list until the scheduled scan's containment shows up.
    private func waitForQuarantine() async throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(containmentWaitSeconds)
        while Date() < deadline {
            let entries = try await object("GET", path + "/quarantine")["entries"] as? [[String: Any]] ?? []
            if !entries.isEmpty {
                try await Task.sleep(for: .milliseconds(200))
                return try await object("GET", path + "/quarantine")["entries"] as? [[String: Any]] ?? entries
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("no scheduled scan quarantined anything within \(Int(containmentWaitSeconds)) s")
    }

    /// Waits for the rebuild auto-contain started; its duration from the timeline.
    private func waitForRebuild(_ incident: String, validation: inout [String: String]) async throws -> Double? {
        let deadline = Date().addingTimeInterval(Self.jobWaitSeconds)
        while Date() < deadline {
            let events = try await timeline(incident)
            let started = events.first { $0["kind"] as? String == "rebuild_started" }
            if let ended = events.first(where: { ($0["kind"] as? String ?? "").hasPrefix("rebuild_") && $0["kind"] as? String != "rebuild_started" }) {
                guard ended["kind"] as? String == "rebuild_succeeded" else {
                    throw ValidationError("the rebuild ended \(ended["kind"] ?? "?"): \((ended["payload"] as? [String: Any])?["error"] ?? "")")
                }
                validation = (ended["payload"] as? [String: String] ?? [:]).filter { $0.key.hasPrefix(DrillCorpus.tenant + ".") }
                guard let from = parseTime(started?["at"] as? String), let to = parseTime(ended["at"] as? String) else { return nil }
                return to.timeIntervalSince(from)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("the rebuild did not finish within \(Int(Self.jobWaitSeconds)) s")
    }

    /// Lifts the freeze after a clean scan, resolves the incident and writes the postmortem.
    private func close(_ report: inout DrillReport, threshold: Double) async throws {
        guard let incident = report.incidentID else { return }
        let scan = try await object("POST", path + "/scans", ["tenant": DrillCorpus.tenant, "threshold": threshold])
        if (scan["max_z"] as? Double ?? .infinity) < threshold {
            _ = try await object("PUT", path + "/flags/FF_INDEX_FREEZE",
                                 ["enabled": false, "tenant": DrillCorpus.tenant, "incident_id": incident])
            report.freezeLifted = true
        }
        if report.freezeLifted {
            report.hubsHeldAtIngest = try await plantAtIngest(threshold: threshold)
        } else {
            report.notes.append("the freeze was not lifted (the closing scan was not clean), so no hub was planted through ingest")
        }
        for status in ["mitigated", "resolved"] {
            let reply = try await client.send("POST", "/v1/incidents/\(incident)/transition",
                                              json: try JSONSerialization.data(withJSONObject: [
                                                  "status": status, "reason": "drill: hubs quarantined, graph rebuilt, rolled back to last-clean"]))
            if !reply.isSuccess { report.notes.append("transition to \(status) refused: \(reply.problem?.detail ?? "\(reply.status)")") }
        }
        report.incidentStatus = try await object("GET", "/v1/incidents/\(incident)")["status"] as? String
        let markdown = try await client.succeeded("GET", "/v1/incidents/\(incident)/postmortem")
        try FileManager.default.createDirectory(atPath: settings.postmortemDir, withIntermediateDirectories: true)
        let file = URL(fileURLWithPath: settings.postmortemDir).appendingPathComponent("drill-\(incident).md").standardizedFileURL.path
        try markdown.write(to: URL(fileURLWithPath: file))
        report.postmortemPath = file
    }

    /// With auto-contain scheduled again, a hub planted through ingest must be held on arrival
    /// by the ingest screen (the scan just run built it). Returns how many were held (0 or 1).
    private func plantAtIngest(threshold: Double) async throws -> Int {
        let schedule: [String: Any] = ["every_seconds": 3_600, "policy": "auto-contain", "threshold": threshold]
        _ = try await object("PUT", path + "/scan-schedule", schedule)
        var late = corpus.hub(settings.hubs % settings.topics)
        late["id"] = "hub-at-ingest"
        let answer = try await object("POST", path + "/documents", ["documents": [late]])
        _ = try await object("PUT", path + "/scan-schedule", schedule.merging(["enabled": false]) { $1 })
        let held = (answer["held"] as? [String] ?? []).contains("hub-at-ingest")
        let screened = (answer["screened"] as? [[String: Any]] ?? []).first { $0["id"] as? String == "hub-at-ingest" }
        Console.progress("a hub planted through ingest was \(held ? "held on arrival" : "NOT held") by the ingest screen (z \(screened?["z"] ?? "below the threshold"))")
        return held ? 1 : 0
    }

    // MARK: measurements

    /// Judges every answer the load saw: failures, quarantined documents returned after the
    /// last quarantine committed, and MRR of the golden queries answered by BM25 (degraded).
    private func judge(_ answers: [DrillLoad.Answer], into report: inout DrillReport) {
        report.queriesAnswered = answers.count
        report.failedQueries = answers.filter { !$0.ok }.count
        let quarantined = Set(report.quarantinedIDs)
        if let containedAt = report.containedAt {
            report.quarantinedReturned = answers.filter { $0.sent > containedAt && $0.ids.contains(where: quarantined.contains) }.count
        }
        let degraded = answers.filter { $0.ok && $0.degraded && $0.relevant != nil }
        report.degradedAnswers = answers.filter(\.degraded).count
        if !degraded.isEmpty {
            report.mrrDuring = degraded.reduce(0) { $0 + reciprocalRank($1.ids, relevant: $1.relevant!) } / Double(degraded.count)
        } else {
            report.notes.append("no golden query was answered while the rebuild ran; mrr_at_10.during is null")
        }
    }

    private func meanReciprocalRank(_ rows: [Int]) async throws -> Double {
        var total = 0.0
        for row in rows {
            let answer = try await object("POST", path + "/search", corpus.golden(row, seed: settings.seed))
            total += reciprocalRank((answer["results"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String },
                                    relevant: corpus.id(row))
        }
        return total / Double(max(rows.count, 1))
    }

    /// Golden queries, and probes at each hub's topic centre (which a served hub would top).
    private func loadQueries(_ golden: [Int]) throws -> [DrillLoad.Query] {
        let queries = try golden.map { row in
            DrillLoad.Query(body: try JSONSerialization.data(withJSONObject: corpus.golden(row, seed: settings.seed)),
                            relevant: corpus.id(row))
        }
        let probes = try (0..<settings.hubs).map { i in
            DrillLoad.Query(body: try JSONSerialization.data(withJSONObject: [
                "vector": corpus.centres[i], "tenant": DrillCorpus.tenant, "k": 10, "mode": "vector"]), relevant: nil)
        }
        var mixed: [DrillLoad.Query] = []
        for (index, query) in queries.enumerated() {
            mixed.append(query)
            if index % 4 == 0 { mixed.append(probes[(index / 4) % probes.count]) }
        }
        return mixed
    }

    // MARK: HTTP

    private func object(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        let data = try await client.succeeded(method, path, body: body)
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    private func timeline(_ incident: String) async throws -> [[String: Any]] {
        try await object("GET", "/v1/incidents/\(incident)/timeline")["events"] as? [[String: Any]] ?? []
    }
}

func parseTime(_ text: String?) -> Date? {
    guard let text else { return nil }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)
}

func format(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "–" }
