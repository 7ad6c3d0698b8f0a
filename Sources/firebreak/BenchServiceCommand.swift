import ArgumentParser
import Foundation
import ServiceBench

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

    var settings: ServiceBench.Settings {
        var settings = ServiceBench.Settings()
        settings.documents = documents
        settings.dimension = dimension
        settings.tenants = tenants
        settings.queries = queries
        settings.concurrency = concurrency
        settings.quarantines = quarantines
        settings.seed = seed
        return settings
    }

    func validate() throws {
        if let problem = settings.problem { throw ValidationError(problem) }
    }

    func run() async throws {
        let service = try await ThrowawayService.start(databaseURL: databaseURL, label: "bench")
        do {
            let bench = ServiceBench(settings: settings) { Console.progress($0) }
            let report = try await bench.run(server: service.server, client: service.client)
            try await service.stop()
            try Console.printJSON(report)
        } catch {
            try? await service.stop()
            throw error
        }
    }
}
