import ArgumentParser
import Drills
import FirebreakAPI
import Foundation

/// `firebreak drill`: the corpus-poisoning game day, end to end, against a real service.
struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Run the corpus-poisoning game day end to end and report how the containment went.",
        discussion: """
        Without --url it starts its own service (an in-process server over a throwaway embedded \
        PostgreSQL); with --url it runs against that service (admin token in --token or \
        FIREBREAK_TOKEN), in a new collection of its own. The steps:
          1. ingest a generated collection (topic clusters; golden queries with known answers)
             and measure MRR@10 of the golden queries;
          2. calibrate: scan the clean collection; the threshold is max(5, 1.2 × its highest z)
             unless --threshold is given;
          3. snapshot it and verify the snapshot clean (a last-clean rollback target);
          4. start --clients concurrent clients (golden queries and probes at the hubs), then
             plant --hubs adversarial hubs (documents at topic centres, with injected text);
          5. schedule HubScan every --scan-every seconds with auto-contain, and wait for it to
             quarantine, freeze and rebuild: hybrid queries fall back to BM25 meanwhile;
          6. measure MRR@10 on the rebuilt index, then roll back to last-clean under the load;
          7. lift the freeze after a clean scan, schedule auto-contain again and plant one more
             hub through ingest (the ingest screen must hold it on arrival), resolve the
             incident, and write its postmortem.
        The golden queries are also stored on the service (PUT …/golden-queries), so the rebuild \
        is validated against their baseline MRR@10 before it serves. \
        The JSON report (--json) holds hubs_planted, hubs_detected, containment_seconds (the \
        incident's declaration after the scan, to the last planted hub's quarantine), \
        quarantined_returned and failed_queries (both must be 0), rebuild_seconds, \
        rollback_seconds, mrr_at_10 {before, during, after}, incident_id and postmortem_path. \
        The exit status is 1 when a check fails.
        """)

    @Option(help: "A running service (or FIREBREAK_URL); default: start one in this process.") var url: String?
    @Option(help: "Admin token for --url (or FIREBREAK_TOKEN).") var token: String?
    @Option(help: "Documents in the generated collection.") var documents = 4_000
    @Option(help: "Vector dimension.") var dimension = 64
    @Option(help: "Topic clusters.") var topics = 40
    @Option(help: "Adversarial hubs to plant (at most one per topic).") var hubs = 5
    @Option(help: "Golden queries.") var goldenQueries = 200
    @Option(help: "Concurrent query clients during the drill.") var clients = 4
    @Option(help: "Seconds between scheduled scans (10 at least).") var scanEvery = 10
    @Option(help: "HubScan threshold; default: calibrated on the clean collection.") var threshold: Double?
    @Option(help: "Folder the postmortem is written to.") var postmortemDir = "."
    @Option(help: "Seed of the generated collection.") var seed: UInt64 = 7
    @Option(help: "libpq URL for the service this command starts (default: a throwaway embedded PostgreSQL).")
    var databaseURL: String?
    @Flag(help: "Print the report as one JSON object.") var json = false

    func validate() throws {
        guard documents >= 200, dimension >= 8, topics >= 2, (1...topics).contains(hubs), goldenQueries >= 10,
              goldenQueries <= documents, (1...64).contains(clients), scanEvery >= 10 else {
            throw ValidationError("need documents ≥ 200, dimension ≥ 8, 1 ≤ hubs ≤ topics, 10 ≤ golden queries ≤ documents, 1…64 clients, --scan-every ≥ 10")
        }
        if let threshold, !(threshold > 0) { throw ValidationError("--threshold must be positive") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        if let target = url ?? environment["FIREBREAK_URL"] {
            let client = APIClient(baseURL: target, token: token ?? environment["FIREBREAK_TOKEN"])
            return try finish(try await Drill(settings: settings, client: client, progress: Console.progress).run())
        }
        let service = try await ThrowawayService.start(databaseURL: databaseURL, label: "drill")
        let report: DrillReport
        do {
            report = try await Drill(settings: settings, client: service.client, progress: Console.progress).run()
        } catch {
            try? await service.stop()
            throw error
        }
        try await service.stop()
        try finish(report)
    }

    /// The options, as the library's settings.
    var settings: Drill.Settings {
        var settings = Drill.Settings()
        settings.documents = documents
        settings.dimension = dimension
        settings.topics = topics
        settings.hubs = hubs
        settings.goldenQueries = goldenQueries
        settings.clients = clients
        settings.scanEvery = scanEvery
        settings.threshold = threshold
        settings.postmortemDir = postmortemDir
        settings.seed = seed
        return settings
    }

    private func finish(_ report: DrillReport) throws {
        if json { try Console.printJSON(report) } else { print(report.readable) }
        if !report.failedChecks.isEmpty { throw ExitCode(1) }
    }
}
