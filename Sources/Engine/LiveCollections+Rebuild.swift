import Foundation
import HNSW
import HubScan
import Incidents
import Instrumentation
import Store
import VectorMath

/// How a rebuild is validated before its graph serves.
public struct RebuildOptions: Sendable {
    /// Gate on the HubScan of the rebuilt partition: every z below `threshold`, checked before
    /// the swap. Off by default: the scan then runs after the swap (the partition leaves the
    /// degraded mode first) and its result goes on the incident, since HubScan still flags
    /// about 1 % of clean synthetic documents at z ≥ 5 (issue 5's calibration gap), which
    /// would block clean rebuilds.
    public var validateScan = false
    public var threshold = 5.0
    /// The rebuilt graph must find at least this share of sampled documents as their own
    /// nearest neighbour (a broken graph cannot pass).
    public var selfRecallMin = 0.95
    /// The rebuilt graph's golden-query MRR@10 may fall at most this far below the baseline
    /// (`PUT …/golden-queries`); collections without golden queries skip the check.
    public var goldenMRRDropMax = 0.05
    public static let selfRecallSample = 200
    /// Sample queries of the rebuild's HubScan (documents used as queries).
    public static let scanSampleMax = 10_000
    public static let chunkRows = 2_000
    /// Chunks read ahead of the graph build (each `chunkRows` rows).
    public static let chunksInFlight = 2

    public init() {}
}

extension LiveCollection {
    /// Marks partitions as rebuilding (vector requests answered by an exact scan) or back to
    /// serving. Only for state read from the record at start-up or a fallback when a
    /// `rebuild_ended` change cannot be written; otherwise the change rows do it.
    func setRebuilding(_ rebuilding: Bool, tenants: [String]) {
        mutate { for tenant in tenants { partitions[tenant]?.rebuilding = rebuilding } }
    }

    /// The partitions a rebuild of `tenant` (all when nil) covers; refuses one already rebuilding.
    func rebuildTargets(tenant: String?) throws(EngineError) -> [String] {
        try state.reading { () throws(EngineError) -> [String] in
            let tenants = tenant.map { [$0] } ?? partitions.keys.sorted()
            for name in tenants {
                guard let partition = partitions[name] else {
                    throw EngineError(.invalidInput, "collection \(configuration.name) has no tenant \(name)")
                }
                if partition.rebuilding { throw EngineError(.rebuildRunning, "tenant \(name) of \(configuration.name) is already rebuilding") }
            }
            guard !tenants.isEmpty else { throw EngineError(.invalidInput, "collection \(configuration.name) has no documents to rebuild") }
            return tenants
        }
    }

    var quarantinedRowIDs: Set<Int64> { state.reading { Set(quarantined.keys) } }

    var partitionTenants: [String] { state.reading { partitions.keys.sorted() } }
}

extension LiveCollections {
    /// Starts rebuilding the graph of one tenant's partition (all partitions when `tenant` is
    /// nil) from the system of record minus the quarantine. While it runs, those partitions
    /// answer vector and hybrid requests from BM25, marked degraded; other tenants keep full
    /// vector search. Returns the job id and the incident it runs under; `job(_:)` reports progress.
    public func rebuild(_ collection: LiveCollection, tenant: String?, incident: IncidentReference, actor: String,
                        options: RebuildOptions = RebuildOptions()) async throws(EngineError) -> (job: Int64, incidentID: String) {
        try await Spans.run("firebreak.rebuild", attributes: ["firebreak.collection": collection.configuration.name]) {
            () async throws(EngineError) -> (job: Int64, incidentID: String) in
            let started: (job: Int64, incident: String, tenants: [String]) = try await write(collection) { connection throws(EngineError) in
                let tenants = try collection.rebuildTargets(tenant: tenant)
                let incidentID = try incident.resolve(collection: collection.configuration.name, tenant: tenant, actor: actor,
                                                      on: connection)
                do {
                    let job = try JobRecords.create(kind: "rebuild", collectionID: collection.configuration.id, tenant: tenant,
                                                    incidentID: incidentID, owner: self.replica.name, on: connection)
                    _ = try IncidentRecords.record(incidentID, on: connection) {
                        _ = try $0.append(RebuildStarted(jobID: job, collection: collection.configuration.name, tenants: tenants),
                                          actor: actor)
                    }
                    try collection.append(.rebuildStarted(tenants: tenants, jobID: job), on: connection)
                    return (job, incidentID, tenants)
                } catch {
                    throw LiveCollection.mapped(error)
                }
            }
            // The job is a span of the request's trace, and its events carry that trace.
            let parent = InstrumentationContext.current
            let trace = TraceContext.current
            Task.detached { [self] in
                await Spans.run("firebreak.rebuild.job", parent: parent, attributes: ["firebreak.collection": collection.configuration.name],
                                fallback: trace) {
                    await runRebuild(started.job, collection: collection, tenants: started.tenants, incidentID: started.incident,
                                     actor: actor, options: options)
                }
            }
            return (started.job, started.incident)
        }
    }

    /// Asks a running job to stop; it finishes as cancelled and the previous graph keeps serving.
    public func cancel(job: Int64, actor: String) async throws(EngineError) {
        let record: JobRecord?
        do { record = try await pool.withConnection { try JobRecords.load(job, on: $0) } } catch { throw LiveCollection.mapped(error) }
        guard let record else { throw EngineError(.unknownJob, "no job \(job)") }
        guard !JobRecords.finishedStates.contains(record.state) else {
            throw EngineError(.jobFinished, "job \(job) already \(record.state)")
        }
        cancellations.request(job)
    }

    public func job(_ id: Int64) async throws(EngineError) -> JobRecord {
        let record: JobRecord?
        do { record = try await pool.withConnection { try JobRecords.load(id, on: $0) } } catch { throw LiveCollection.mapped(error) }
        guard let record else { throw EngineError(.unknownJob, "no job \(id)") }
        return record
    }

    /// The characters of a failed rebuild's error kept on its `rebuild_failed` event.
    static let rebuildErrorCharactersMax = 1_000

    private func runRebuild(_ job: Int64, collection: LiveCollection, tenants: [String], incidentID: String, actor: String,
                            options: RebuildOptions) async {
        var state = RebuildEnded.State.succeeded
        var failure: String?
        var findings: [String: [String: PayloadValue]] = [:]
        var regression: GoldenRegression?
        var audits: [(tenant: String, rows: [(rowID: Int64, record: DocumentRecord)])] = []
        var clock = PhaseClock()
        do {
            try await pool.withConnection { try JobRecords.start(job, on: $0) }
            let withheld = collection.quarantinedRowIDs
            let golden = try await goldenQueries(of: collection)
            var preludeSeconds = clock.lap()
            for (index, tenant) in tenants.enumerated() {
                let (graph, mine, waited) = try await loadAndBuild(tenant, withheld: withheld, collection: collection, job: job,
                                                                   progress: (Double(index), Double(tenants.count)))
                let loadAndGraphSeconds = clock.lap()
                try await pool.withConnection { try JobRecords.heartbeat(job, on: $0) }
                var checks = try checkNavigable(graph, options: options)
                    .merging(try checkGolden(golden, graph: graph, tenant: tenant, collection: collection,
                                             dropMax: options.goldenMRRDropMax)) { $1 }
                if options.validateScan {
                    // A scan is seconds of BLAS: on a Dispatch thread, off the concurrency pool.
                    let scanned = try await BlockingWork.run { [self] in
                        try scanRebuilt(mine, tenant: tenant, collection: collection, options: options)
                    }
                    checks.merge(scanned) { $1 }
                } else {
                    audits.append((tenant, mine))
                }
                // Where the time went: waiting for rows (the read overlaps the build), building.
                checks["load_seconds"] = .rounded(preludeSeconds + waited, places: 3)
                checks["graph_seconds"] = .rounded(loadAndGraphSeconds - waited, places: 3)
                preludeSeconds = 0
                checks["validation_seconds"] = .rounded(clock.lap(), places: 3)
                findings[tenant] = checks
                try await EngineFaults.hold(.rebuildBeforeSwap) { cancellations.isRequested(job) }
                if cancellations.isRequested(job) { throw RebuildCancelled() }
                // The swap is a change like any other: appended, then applied (here, from memory;
                // on the other replicas, from the file it names).
                let file = await publishRebuilt(graph, job: job, tenant: tenant, of: collection)
                try await EngineFaults.hold(.rebuildMidSwap) { cancellations.isRequested(job) }
                try await write(collection) { connection throws(EngineError) in
                    // Failed meanwhile (orphaned, by another replica): the old graph stays.
                    guard (try? JobRecords.isOpen(job, on: connection)) == true else {
                        throw EngineError(.jobFinished, "job \(job) was finished by another replica before its swap")
                    }
                    try collection.append(.partitionRebuilt(tenant: tenant, jobID: job, graphFile: file?.path, graphSHA256: file?.sha256),
                                          prepared: .graph(graph), on: connection)
                }
                findings[tenant]?["publish_and_swap_seconds"] = .rounded(clock.lap(), places: 3)
            }
        } catch is RebuildCancelled {
            state = .cancelled
        } catch let error as GoldenRegression {
            state = .failed
            failure = error.description
            regression = error
        } catch {
            state = .failed
            failure = "\(error)"
        }
        await recordRebuildEnded(job, collection: collection, tenants: tenants, state: state.rawValue)
        let degradedSeconds = clock.total()
        // The scan that does not gate runs once the new graphs serve: searches are answered by
        // the graph again while it runs, and its findings still reach the incident.
        if state == .succeeded {
            for tenant in findings.keys { findings[tenant]?["degraded_seconds"] = .rounded(degradedSeconds, places: 3) }
            for audit in audits {
                let audited = await BlockingWork.run { [self] in
                    auditRebuilt(audit.rows, tenant: audit.tenant, collection: collection, options: options)
                }
                findings[audit.tenant]?.merge(audited) { $1 }
            }
        }
        cancellations.clear(job)
        let finalState = state, finalFailure = failure, finalFindings = findings
        let ended = RebuildEnded(state: finalState, jobID: job, tenants: tenants, validation: finalFindings,
                                 error: finalFailure.map { String($0.prefix(Self.rebuildErrorCharactersMax)) })
        do {
            // One transaction: whoever sees the job finished also finds its end on the incident.
            try await pool.withConnection { connection in
                try connection.transaction { c in
                    try JobRecords.finish(job, state: finalState.rawValue, error: finalFailure, on: c)
                    _ = try IncidentRecords.record(incidentID, on: c) { _ = try $0.append(ended, actor: actor) }
                }
            }
        } catch {
            // The incident refused the event (closed meanwhile, say): the job is still finished,
            // and the gap is said. Should even that fail, the job's heartbeat has stopped, so the
            // next orphan check (any replica, within seconds) fails it with a reason.
            let finished = (try? await pool.withConnection { try JobRecords.finish(job, state: finalState.rawValue, error: finalFailure, on: $0) }) != nil
            report("rebuild job \(job) ended \(finalState.rawValue) but incident \(incidentID) could not record it (\(error)); "
                   + (finished ? "the job is finished without its rebuild_ended event" : "the orphan check will fail the job"))
        }
        if let regression { await declareRetrievalRegression(regression, collection: collection, job: job, rebuildIncident: incidentID) }
    }

    /// A golden-query regression is a retrieval failure (the runbooks' `retrieval` class: MRR
    /// below its baseline), not the corpus incident the rebuild ran under: a SEV-3 of its own
    /// on the collection and tenant, named by a decision on the rebuild's incident. Best effort:
    /// the rebuild's end is recorded either way.
    private func declareRetrievalRegression(_ regression: GoldenRegression, collection: LiveCollection, job: Int64,
                                            rebuildIncident: String) async {
        let mrr = { (value: Double) in String(format: "%.3f", value) }
        let title = "Golden-query MRR@10 fell from \(mrr(regression.verdict.baselineMRR)) to \(mrr(regression.verdict.mrr))"
            + " in a rebuilt graph of \(regression.tenant) (job \(job))"
        do {
            try await pool.withConnection { connection in
                let (declared, _) = try IncidentService.declare(
                    title: String(title.prefix(Incident.titleCharactersMax)), severity: .sev3, taxonomyClass: .retrieval, reporter: Self.rebuildValidator,
                    tenant: regression.tenant, collection: collection.configuration.name, on: connection)
                _ = try IncidentService.decide(rebuildIncident, Decision(
                    who: Self.rebuildValidator, what: "kept the previous graph of \(regression.tenant) serving; declared \(declared.id) (retrieval)",
                    why: regression.description, optionsNotTaken: ["swap in the rebuilt graph"]), on: connection)
            }
        } catch {
            report("rebuild job \(job): the retrieval incident for its golden-query regression could not be declared (\(error))")
        }
    }

    static let rebuildValidator = "rebuild-validation"

    /// Reads `tenant`'s live rows from PostgreSQL and builds its new graph from them at once:
    /// a connection's thread reads the next chunks (`RebuildOptions.chunksInFlight` at most)
    /// while this one links the current chunk, so the read costs about the wait for the first.
    /// Rows quarantined when the job started are left out; a cancel takes effect between
    /// chunks. Returns the graph, the rows it holds, and the seconds spent waiting for rows.
    private func loadAndBuild(_ tenant: String, withheld: Set<Int64>, collection: LiveCollection, job: Int64,
                              progress: (done: Double, of: Double)) async throws
        -> (graph: HNSWIndex, rows: [(rowID: Int64, record: DocumentRecord)], waitedSeconds: Double) {
        let expected = max(collection.status(scope: tenant).documents, 1)
        let graph = try HNSWIndex(parameters: collection.configuration.hnswParameters, capacity: expected)
        let handoff = Handoff<[(rowID: Int64, record: DocumentRecord)]>(capacity: RebuildOptions.chunksInFlight)
        let collectionID = collection.configuration.id
        Task { [pool] in
            do {
                try await pool.withConnection { connection in
                    try DocumentRecords.loadLive(collectionID: collectionID, tenant: tenant, chunkRows: RebuildOptions.chunkRows,
                                                 on: connection) { handoff.put($0) }
                }
                handoff.finish()
            } catch {
                handoff.finish(throwing: error)
            }
        }
        // However this ends, the reader stops at its next chunk and hands its connection back.
        defer { handoff.abandon() }
        var rows: [(rowID: Int64, record: DocumentRecord)] = []
        var waited = 0.0
        while true {
            if cancellations.isRequested(job) { throw RebuildCancelled() }
            var clock = PhaseClock()
            guard let chunk = try await BlockingWork.run({ try handoff.take() }) else { break }
            waited += clock.lap()
            let kept = chunk.filter { !withheld.contains($0.rowID) }
            rows += kept
            guard !kept.isEmpty else { continue }
            let matrix = try Matrix(rows: kept.count, dimension: collection.configuration.dimension,
                                    storage: kept.flatMap(\.record.embedding))
            // Linking runs on a Dispatch thread: the concurrency pool keeps serving searches.
            let labels = kept.map { UInt64($0.rowID) }
            try await BlockingWork.run { try graph.add(matrix, labels: labels) }
            let fraction = (progress.done + min(1, Double(rows.count) / Double(expected))) / progress.of
            try await pool.withConnection { try JobRecords.progress(job, fraction * 0.95, on: $0) }
        }
        return (graph, rows, waited)
    }

    /// The rebuilt graph must be navigable: it finds sampled documents (or an exact copy)
    /// as their own nearest neighbour. A broken graph cannot pass.
    private func checkNavigable(_ graph: HNSWIndex, options: RebuildOptions) throws -> [String: PayloadValue] {
        guard graph.liveCount > 0 else { return [:] }
        let labels = (0..<UInt32(graph.count)).filter { !graph.isDeleted(id: $0) }.map { graph.label(ofID: $0) }
        let sample = stride(from: 0, to: labels.count, by: max(1, labels.count / RebuildOptions.selfRecallSample)).map { labels[$0] }
        var found = 0
        for label in sample where try graph.findsItself(label: label) { found += 1 }
        let recall = Double(found) / Double(max(sample.count, 1))
        guard recall >= options.selfRecallMin else {
            throw EngineError(.indexFailed, "validation: the rebuilt graph finds \(Int(recall * 100)) % of sampled documents (or an exact copy) as their own nearest neighbour (needs \(Int(options.selfRecallMin * 100)) %)")
        }
        return ["self_recall": .rounded(recall, places: 3)]
    }

    /// A HubScan of the rebuilt partition's documents. With `validateScan` it gates the swap:
    /// any z at or over the threshold fails the rebuild.
    private func scanRebuilt(_ rows: [(rowID: Int64, record: DocumentRecord)], tenant: String, collection: LiveCollection,
                             options: RebuildOptions) throws -> [String: PayloadValue] {
        guard rows.count > Self.scanDocumentsMin else { return [:] }
        let matrix = try Matrix(rows: rows.count, dimension: collection.configuration.dimension,
                                storage: rows.flatMap(\.record.embedding))
        var scan = HubScanner.Options()
        scan.sample = .documents
        scan.sampleSize = min(RebuildOptions.scanSampleMax, rows.count)
        scan.threshold = options.threshold
        let queries = collection.reservoir.queries(tenant: tenant, dimension: collection.configuration.dimension)
        let report = try HubScanner.scan(matrix, metric: collection.configuration.metric, realQueries: queries, options: scan)
        guard !options.validateScan || report.distribution.maxZ < options.threshold else {
            throw EngineError(.indexFailed, "validation: a scan of the rebuilt graph found z = \(String(format: "%.1f", report.distribution.maxZ)) ≥ \(options.threshold) (\(report.flagged.count) documents flagged)")
        }
        return ["scan_max_z": .rounded(report.distribution.maxZ, places: 2),
                "scan_flagged": .integer(Int64(report.flagged.count))]
    }

    /// The scan that does not gate, after the swap: its findings (or why it could not run)
    /// and its duration, for the incident. It never fails a rebuild whose graph already serves.
    private func auditRebuilt(_ rows: [(rowID: Int64, record: DocumentRecord)], tenant: String, collection: LiveCollection,
                              options: RebuildOptions) -> [String: PayloadValue] {
        var clock = PhaseClock()
        var findings: [String: PayloadValue]
        do {
            findings = try scanRebuilt(rows, tenant: tenant, collection: collection, options: options)
        } catch {
            findings = ["scan_error": .string(String("\(error)".prefix(Self.rebuildErrorCharactersMax)))]
        }
        findings["scan_seconds"] = .rounded(clock.lap(), places: 3)
        return findings
    }
}

struct RebuildCancelled: Error {}

/// Seconds between laps, for a job's phases.
struct PhaseClock {
    private let start = DispatchTime.now().uptimeNanoseconds
    private var last = DispatchTime.now().uptimeNanoseconds

    /// Seconds since the clock started.
    func total() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// Seconds since the previous lap (or since the clock started), and starts the next.
    mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return Double(now - last) / 1e9
    }
}

/// Jobs a caller asked to cancel (checked by the job between steps).
final class CancellationRequests: @unchecked Sendable {
    private let lock = Mutex()
    private var requested: Set<Int64> = []
    func request(_ job: Int64) { lock.locked { _ = requested.insert(job) } }
    func isRequested(_ job: Int64) -> Bool { lock.locked { requested.contains(job) } }
    func clear(_ job: Int64) { lock.locked { _ = requested.remove(job) } }
}
