// ServiceBench — `firebreak bench service` as a library: the HTTP service measured against
// the engine in-process, on seeded synthetic data, over FirebreakAPI.
//
// Owns: the measurement (search latency per mode in-process and over HTTP, quarantine
// activation idle and under load, quarantined documents returned under load, a rebuild and a
// rollback under search load) and its report.
//
// Never: starts a service itself (the caller hands it a running server and a client: the
// executable's throwaway service, or a test's); prints (progress goes to a closure); asserts
// speed (the report states figures; the safety counts are for the caller to check).
//
// Invariants: a search answered after a quarantine was acknowledged that still returns the
// document is counted, never dropped; a refused request ends the run with `CallError`.

import Dispatch
import Engine
import FirebreakAPI
import Foundation
import Server
import VectorMath

public struct ServiceBench: Sendable {
    public struct Settings: Sendable {
        public var documents = 20_000
        public var dimension = 384
        public var tenants = 4
        public var queries = 2_000
        public var concurrency = 8
        public var quarantines = 200
        public var seed: UInt64 = 42
        /// The collection it creates (a new name: the run fails if it exists).
        public var collection = "bench"

        public init() {}

        /// Why these settings cannot run, or nil.
        public var problem: String? {
            guard documents >= 100, dimension >= 2, tenants >= 1, queries >= 10, concurrency >= 1, quarantines >= 1,
                  quarantines * 2 < documents else {
                return "need documents ≥ 100, queries ≥ 10, concurrency ≥ 1 and 2·quarantines < documents"
            }
            return nil
        }
    }

    /// Documents ingested after the snapshot of the rollback phase (they are retired by it).
    public static let lateDocuments = 100
    public static let ingestBatchDocuments = 500

    let settings: Settings
    let progress: @Sendable (String) -> Void
    var documents: Int { settings.documents }
    var dimension: Int { settings.dimension }
    var tenants: Int { settings.tenants }
    var queries: Int { settings.queries }
    var concurrency: Int { settings.concurrency }
    var quarantines: Int { settings.quarantines }

    public init(settings: Settings, progress: @escaping @Sendable (String) -> Void = { _ in }) {
        precondition(settings.problem == nil, "validated settings: \(settings.problem ?? "")")
        self.settings = settings
        self.progress = progress
    }

    /// Runs every phase against `server` (for the in-process figures) through `client`.
    public func run(server: FirebreakServer, client: APIClient) async throws -> Report {
        try await measure(server: server, client: client)
    }

    func measure(server: FirebreakServer, client: APIClient) async throws -> Report {
        let name = settings.collection
        _ = try await client.send("POST", "/v1/collections", body: CreateCollectionBody(name: name, dimension: dimension, metric: "cosine")).succeeded()
        let corpus = BenchCorpus(documents: documents, dimension: dimension, tenants: tenants, seed: settings.seed)
        let ingestStarted = DispatchTime.now().uptimeNanoseconds
        for start in stride(from: 0, to: documents, by: Self.ingestBatchDocuments) {
            let rows = start..<min(start + Self.ingestBatchDocuments, documents)
            _ = try await client.send("POST", "/v1/collections/\(name)/documents",
                                               body: IngestBody(documents: rows.map(corpus.document))).succeeded()
            progress("ingested \(rows.upperBound)/\(documents)")
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
            progress("\(mode.rawValue): in-process p50 \(percentile(inProcess, 50)) ms, http p50 \(percentile(single.latencies, 50)) ms")
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
}
