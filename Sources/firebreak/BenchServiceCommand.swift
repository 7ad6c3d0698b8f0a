import ArgumentParser
import Dispatch
import Engine
import FirebreakAPI
import Foundation
import Server
import Store
import VectorMath

/// `firebreak bench service`: the service over loopback against the same searches run
/// in-process, quarantine activation as a client sees it, and a leak check under load.
struct BenchServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service",
        abstract: "Measure the HTTP service: search latency per mode vs in-process, quarantine activation, leaks under load.",
        discussion: """
        Starts a throwaway embedded PostgreSQL (or uses --database-url), an in-process server on a \
        free loopback port, ingests seeded synthetic documents over HTTP, then measures:
        - search p50/p99 per mode in-process (the engine alone) and over HTTP, one client and \
        --concurrency clients (the difference is the service's overhead);
        - quarantine activation: a client quarantines a document and immediately searches for it; \
        the time until that search answers without it (p50/p99);
        - quarantined documents returned under load: searches aimed at the quarantined documents \
        run concurrently; any answer sent after the quarantine was acknowledged that still \
        contains the document counts (must be 0);
        - a rebuild of one tenant's partition under hybrid search load on every tenant: its \
        duration, failed queries (must be 0), and the degraded (BM25) answers' p50/p99/QPS;
        - a snapshot of the whole collection, 100 more documents, then a rollback to the snapshot \
        under the same load: snapshot and rollback durations, failed queries (must be 0).
        """)

    @Option(help: "Documents to ingest.") var documents = 20_000
    @Option(help: "Vector dimension.") var dimension = 384
    @Option(help: "Tenants (partitions) the documents are spread over.") var tenants = 4
    @Option(help: "Search requests per mode and run.") var queries = 2_000
    @Option(help: "Concurrent HTTP clients.") var concurrency = 8
    @Option(help: "Quarantines in the activation run.") var quarantines = 200
    @Option(help: "Seed of the synthetic data.") var seed: UInt64 = 42
    @Option(help: "libpq URL of a PostgreSQL to use instead of a throwaway embedded one.") var databaseURL: String?

    func validate() throws {
        guard documents >= 100, dimension >= 2, tenants >= 1, queries >= 10, concurrency >= 1, quarantines >= 1,
              quarantines * 2 < documents else {
            throw ValidationError("need documents ≥ 100, queries ≥ 10, concurrency ≥ 1 and 2·quarantines < documents")
        }
    }

    func run() async throws {
        let service = try await ThrowawayService.start(databaseURL: databaseURL, label: "bench")
        do {
            let report = try await measure(server: service.server, client: service.client)
            try await service.stop()
            try Console.printJSON(report)
        } catch {
            try? await service.stop()
            throw error
        }
    }

    struct ModeReport: Encodable {
        let inProcessP50Ms, inProcessP99Ms, httpP50Ms, httpP99Ms, overheadP50Ms: Double
        let concurrentP50Ms, concurrentP99Ms, concurrentQPS: Double
    }

    struct Report: Encodable {
        let documents, dimension, tenants, concurrency: Int
        let ingestDocumentsPerSecond: Double
        let search: [String: ModeReport]
        /// Client-observed, with nothing else running: request sent → answer without the document.
        let quarantineActivationIdleP50Ms, quarantineActivationIdleP99Ms: Double
        /// The same under the concurrent search load.
        let quarantineActivationP50Ms, quarantineActivationP99Ms: Double
        let quarantineResponseP50Ms, quarantineResponseP99Ms: Double
        /// Server-side, request arrival → filters cleared, from the Prometheus histogram
        /// (upper bucket bounds, all quarantines of the run).
        let serverActivationP50MsAtMost, serverActivationP99MsAtMost: Double
        let quarantines: Int
        let searchesUnderLoad: Int
        let quarantinedReturnedUnderLoad: Int
        let rebuild: RebuildReport
        let rollback: RollbackReport
    }

    /// Snapshot of the whole collection, then a rollback to it under search load.
    struct RollbackReport: Encodable {
        let documents: Int
        let snapshotSeconds: Double
        /// Request arrival → restored partitions serving (the service's own measure).
        let rollbackServerSeconds: Double
        let rollbackClientSeconds: Double
        let retired: Int
        /// The service's own breakdown: load (verify + load files), commit, swap.
        let rollbackPhases: [String: Double]
        let searches, failedQueries: Int
    }

    struct RebuildReport: Encodable {
        let tenant: String
        let documents: Int
        let state: String
        let error: String?
        let seconds: Double
        /// Searches of the rebuilding tenant (answered by BM25) and of the others, during it.
        let degradedSearches, otherSearches, failedQueries: Int
        let degradedP50Ms, degradedP99Ms, degradedQPS: Double
    }

    private func measure(server: FirebreakServer, client: APIClient) async throws -> Report {
        let name = "bench"
        _ = try await expectSuccess(client.send("POST", "/v1/collections", body: CreateCollectionBody(name: name, dimension: dimension, metric: "cosine")))
        let corpus = Corpus(documents: documents, dimension: dimension, tenants: tenants, seed: seed)
        let ingestStarted = DispatchTime.now().uptimeNanoseconds
        for start in stride(from: 0, to: documents, by: 500) {
            let rows = start..<min(start + 500, documents)
            _ = try await expectSuccess(client.send("POST", "/v1/collections/\(name)/documents",
                                               body: IngestBody(documents: rows.map(corpus.document))))
            Console.progress("ingested \(rows.upperBound)/\(documents)")
        }
        let ingestRate = Double(documents) / secondsSince(ingestStarted)
        let collection = try server.collections.named(name)
        var search: [String: ModeReport] = [:]
        for mode in SearchMode.allCases {
            let bodies = (0..<queries).map { corpus.query($0, mode: mode) }
            let inProcess = try bodies.map { body -> Double in
                let request = SearchRequest(mode: mode, vector: body.vector, query: body.query, k: 10, tenant: body.tenant)
                let started = DispatchTime.now().uptimeNanoseconds
                _ = try collection.search(request)
                return secondsSince(started) * 1e3
            }
            let single = try await httpLatencies(bodies, client: client, collection: name, clients: 1)
            let concurrent = try await httpLatencies(bodies, client: client, collection: name, clients: concurrency)
            search[mode.rawValue] = ModeReport(
                inProcessP50Ms: percentile(inProcess, 50), inProcessP99Ms: percentile(inProcess, 99),
                httpP50Ms: percentile(single.latencies, 50), httpP99Ms: percentile(single.latencies, 99),
                overheadP50Ms: percentile(single.latencies, 50) - percentile(inProcess, 50),
                concurrentP50Ms: percentile(concurrent.latencies, 50), concurrentP99Ms: percentile(concurrent.latencies, 99),
                concurrentQPS: Double(bodies.count) / concurrent.seconds)
            Console.progress("\(mode.rawValue): in-process p50 \(percentile(inProcess, 50)) ms, http p50 \(percentile(single.latencies, 50)) ms")
        }
        let load = try await quarantineUnderLoad(corpus: corpus, client: client, collection: name)
        return Report(documents: documents, dimension: dimension, tenants: tenants, concurrency: concurrency,
                      ingestDocumentsPerSecond: ingestRate, search: search,
                      quarantineActivationIdleP50Ms: percentile(load.idle.activation, 50),
                      quarantineActivationIdleP99Ms: percentile(load.idle.activation, 99),
                      quarantineActivationP50Ms: percentile(load.activation, 50), quarantineActivationP99Ms: percentile(load.activation, 99),
                      quarantineResponseP50Ms: percentile(load.response, 50), quarantineResponseP99Ms: percentile(load.response, 99),
                      serverActivationP50MsAtMost: try await serverActivation(client, quantile: 0.5),
                      serverActivationP99MsAtMost: try await serverActivation(client, quantile: 0.99),
                      quarantines: load.activation.count + load.idle.activation.count, searchesUnderLoad: load.searches,
                      quarantinedReturnedUnderLoad: load.leaks,
                      rebuild: try await rebuildUnderLoad(corpus: corpus, client: client, collection: name),
                      rollback: try await rollbackUnderLoad(corpus: corpus, client: client, collection: name))
    }

    /// Rebuilds tenant-0's partition while `concurrency` clients search every tenant: the
    /// rebuild's duration, failed queries (must be 0) and the degraded answers' latency.
    private func rebuildUnderLoad(corpus: Corpus, client: APIClient, collection: String) async throws -> RebuildReport {
        let started = DispatchTime.now().uptimeNanoseconds
        let reply = try expectSuccess(await client.send("POST", "/v1/collections/\(collection)/rebuild",
                                                   body: RebuildBody(tenant: "tenant-0", reason: "bench rebuild")))
        let job = try reply.decoded(JobStartedBody.self).jobID
        let finished = AcknowledgedQuarantines()
        async let load = searchLoad(corpus: corpus, client: client, collection: collection, until: finished)
        var state: JobBody
        repeat {
            try await Task.sleep(for: .milliseconds(100))
            state = try expectSuccess(await client.send("GET", "/v1/jobs/\(job)")).decoded(JobBody.self)
        } while !state.isFinished
        let seconds = secondsSince(started)
        finished.record("done", at: 0)
        let result = try await load
        return RebuildReport(tenant: "tenant-0", documents: documents / tenants, state: state.state,
                             error: state.error, seconds: seconds, degradedSearches: result.degraded.count,
                             otherSearches: result.other, failedQueries: result.failed,
                             degradedP50Ms: percentile(result.degraded, 50), degradedP99Ms: percentile(result.degraded, 99),
                             degradedQPS: Double(result.degraded.count) / seconds)
    }

    /// `concurrency` clients sending hybrid searches over every tenant until `stop` holds
    /// "done": latencies of the degraded (BM25) answers, how many others, how many failed.
    private func searchLoad(corpus: Corpus, client: APIClient, collection: String, until stop: AcknowledgedQuarantines)
        async throws -> (degraded: [Double], other: Int, failed: Int) {
        try await withThrowingTaskGroup(of: ([Double], Int, Int).self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var degraded: [Double] = [], other = 0, failed = 0, index = worker
                    while !stop.contains("done") {
                        let body = corpus.query(index, mode: .hybrid)
                        index += concurrency
                        let sent = DispatchTime.now().uptimeNanoseconds
                        guard let answer = try? await client.send("POST", "/v1/collections/\(collection)/search", body: body),
                              answer.isSuccess else { failed += 1; continue }
                        if try answer.decoded(SearchResultBody.self).degraded { degraded.append(secondsSince(sent) * 1e3) } else { other += 1 }
                    }
                    return (degraded, other, failed)
                }
            }
            return try await group.reduce(into: ([], 0, 0)) { $0.0 += $1.0; $0.1 += $1.1; $0.2 += $1.2 }
        }
    }

    /// Snapshots the collection, ingests `lateDocuments` more into tenant-0, then rolls the
    /// whole collection back to the snapshot while `concurrency` clients search every tenant.
    private func rollbackUnderLoad(corpus: Corpus, client: APIClient, collection: String) async throws -> RollbackReport {
        let path = "/v1/collections/\(collection)"
        let snapshotStarted = DispatchTime.now().uptimeNanoseconds
        let snapshot = try expectSuccess(await client.send("POST", path + "/snapshots")).decoded(SnapshotBody.self)
        let snapshotSeconds = secondsSince(snapshotStarted)
        let late = (0..<Self.lateDocuments).map { row -> NewDocumentBody in
            var document = corpus.document(row * tenants)
            document.id = "late-\(row)"
            return document
        }
        _ = try expectSuccess(await client.send("POST", path + "/documents", body: IngestBody(documents: late)))
        let finished = AcknowledgedQuarantines()
        async let load = searchLoad(corpus: corpus, client: client, collection: collection, until: finished)
        try await Task.sleep(for: .milliseconds(500))
        let started = DispatchTime.now().uptimeNanoseconds
        let reply = try expectSuccess(await client.send("POST", path + "/rollback",
                                                   body: RollbackBody(snapshotID: snapshot.id, reason: "bench rollback")))
        let clientSeconds = secondsSince(started)
        try await Task.sleep(for: .milliseconds(500))
        finished.record("done", at: 0)
        let result = try await load
        let outcome = try reply.decoded(RollbackResultBody.self)
        return RollbackReport(documents: snapshot.documents ?? 0, snapshotSeconds: snapshotSeconds,
                              rollbackServerSeconds: outcome.seconds, rollbackClientSeconds: clientSeconds, retired: outcome.retired,
                              rollbackPhases: outcome.phases, searches: result.other + result.degraded.count,
                              failedQueries: result.failed)
    }

    static let lateDocuments = 100

    /// A quantile of `firebreak_quarantine_activation_seconds` from /metrics, as the upper
    /// bound of the histogram bucket that holds it, in ms.
    private func serverActivation(_ client: APIClient, quantile: Double) async throws -> Double {
        let text = String(decoding: try await client.send("GET", "/metrics").body, as: UTF8.self)
        let buckets: [(bound: Double, count: Double)] = text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("firebreak_quarantine_activation_seconds_bucket"),
                  let open = line.range(of: "le=\""), let close = line[open.upperBound...].firstIndex(of: "\""),
                  let count = Double(line.split(separator: " ").last ?? "") else { return nil }
            let bound = line[open.upperBound..<close]
            return (bound == "+Inf" ? .infinity : Double(bound) ?? .infinity, count)
        }.sorted { $0.bound < $1.bound }
        guard let total = buckets.last?.count, total > 0 else { return 0 }
        return (buckets.first { $0.count >= quantile * total }?.bound ?? .infinity) * 1e3
    }

    /// Runs `bodies` split over `clients` concurrent clients; per-request latencies in ms.
    private func httpLatencies(_ bodies: [SearchBody], client: APIClient, collection: String,
                               clients: Int) async throws -> (latencies: [Double], seconds: Double) {
        let payloads = try bodies.map { try JSONEncoder.api.encode($0) }
        let started = DispatchTime.now().uptimeNanoseconds
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for worker in 0..<clients {
                group.addTask {
                    var mine: [Double] = []
                    for index in stride(from: worker, to: payloads.count, by: clients) {
                        let sent = DispatchTime.now().uptimeNanoseconds
                        _ = try await expectSuccess(client.send("POST", "/v1/collections/\(collection)/search", json: payloads[index]))
                        mine.append(secondsSince(sent) * 1e3)
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        return (latencies, secondsSince(started))
    }

    /// Quarantines `quarantines` documents one by one while `concurrency` clients search for
    /// exactly those documents; counts answers sent after an acknowledged quarantine that
    /// still contain the document.
    private func quarantineUnderLoad(corpus: Corpus, client: APIClient, collection: String) async throws
        -> (idle: (activation: [Double], response: [Double]), activation: [Double], response: [Double], searches: Int, leaks: Int) {
        let targets = (0..<quarantines).map { $0 * (documents / quarantines) }
        let acknowledged = AcknowledgedQuarantines()
        // The first half with nothing else running, the second half under the search load.
        let idle = try await activate(Array(targets.prefix(targets.count / 2)), corpus: corpus, client: client,
                                      collection: collection, acknowledged: acknowledged)
        let stop = AcknowledgedQuarantines()
        let path = "/v1/collections/\(collection)/search"
        async let loadResult: (Int, Int) = withThrowingTaskGroup(of: (Int, Int).self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var searches = 0, leaks = 0, index = worker
                    while !stop.contains("stop") {
                        let row = targets[index % targets.count]
                        index += concurrency
                        let id = corpus.id(row)
                        let sent = DispatchTime.now().uptimeNanoseconds
                        let reply = try await expectSuccess(client.send("POST", path, body: corpus.probe(row)))
                        searches += 1
                        if let ackedAt = acknowledged.time(id), ackedAt < sent, try replyIDs(reply).contains(id) { leaks += 1 }
                    }
                    return (searches, leaks)
                }
            }
            return try await group.reduce(into: (0, 0)) { $0.0 += $1.0; $0.1 += $1.1 }
        }
        let (activation, response) = try await activate(Array(targets.dropFirst(targets.count / 2)), corpus: corpus,
                                                        client: client, collection: collection, acknowledged: acknowledged)
        stop.record("stop", at: 0)
        let (searches, leaks) = try await loadResult
        return (idle, activation, response, searches, leaks)
    }

    /// Quarantines each row's document, then searches for it at once: per row, the time to
    /// the acknowledgement and to the first answer without the document.
    private func activate(_ rows: [Int], corpus: Corpus, client: APIClient, collection: String,
                          acknowledged: AcknowledgedQuarantines) async throws -> (activation: [Double], response: [Double]) {
        var activation: [Double] = []
        var response: [Double] = []
        for row in rows {
            let id = corpus.id(row)
            let started = DispatchTime.now().uptimeNanoseconds
            _ = try await expectSuccess(client.send("POST", "/v1/collections/\(collection)/quarantine",
                                               body: QuarantineBody(ids: [id], reason: "bench", tenant: corpus.tenant(row))))
            acknowledged.record(id, at: DispatchTime.now().uptimeNanoseconds)
            response.append(secondsSince(started) * 1e3)
            let reply = try await expectSuccess(client.send("POST", "/v1/collections/\(collection)/search", body: corpus.probe(row)))
            guard try !replyIDs(reply).contains(id) else { throw ValidationError("quarantined \(id) returned by the next search") }
            activation.append(secondsSince(started) * 1e3)
        }
        return (activation, response)
    }
}

/// Seeded documents and queries: clustered vectors (normalised) and texts from a vocabulary.
struct Corpus: Sendable {
    let vectors: Matrix
    let queries: Matrix
    let tenants: Int
    static let words = (0..<2_000).map { "w\($0)" }

    init(documents: Int, dimension: Int, tenants: Int, seed: UInt64) {
        vectors = SyntheticData.gaussianClusters(rows: documents, dimension: dimension, clusters: 50, seed: seed, normalized: true)
        queries = SyntheticData.gaussianClusters(rows: 1_000, dimension: dimension, clusters: 50, seed: seed, stream: 1,
                                                 normalized: true)
        self.tenants = tenants
    }

    func id(_ row: Int) -> String { "doc-\(row)" }
    func tenant(_ row: Int) -> String { "tenant-\(row % tenants)" }
    func text(_ row: Int) -> String {
        (0..<30).map { Self.words[(row &* 7919 &+ $0 &* $0 &* 104_729) % Self.words.count] }.joined(separator: " ")
    }

    func document(_ row: Int) -> NewDocumentBody {
        NewDocumentBody(id: id(row), tenant: tenant(row), text: text(row), embedding: vectors.row(row))
    }

    func query(_ index: Int, mode: SearchMode) -> SearchBody {
        var body = SearchBody(mode: mode.rawValue, k: 10, tenant: "tenant-\(index % tenants)")
        if mode != .lexical { body.vector = queries.row(index % queries.rows) }
        if mode != .vector { body.query = text(index * 31 % vectors.rows).split(separator: " ").prefix(3).joined(separator: " ") }
        return body
    }

    /// A vector search aimed at one document (its own vector, in its tenant).
    func probe(_ row: Int) -> SearchBody {
        SearchBody(mode: "vector", vector: vectors.row(row), k: 10, tenant: tenant(row))
    }
}

/// When each quarantine was acknowledged (monotonic ns), shared by the load clients.
final class AcknowledgedQuarantines: @unchecked Sendable {
    private let lock = NSLock()
    private var times: [String: UInt64] = [:]
    func record(_ id: String, at time: UInt64) { lock.withLock { times[id] = time } }
    func time(_ id: String) -> UInt64? { lock.withLock { times[id] } }
    func contains(_ id: String) -> Bool { time(id) != nil }
}

/// The nearest-rank percentile (p in 0...100) of `values`; 0 when empty.
func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[max(0, min(sorted.count, rank) - 1)]
}
