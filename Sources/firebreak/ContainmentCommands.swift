import ArgumentParser
import FirebreakAPI
import Foundation

/// `firebreak snapshots create|list|verify`: snapshots of a live collection, over HTTP.
/// (`firebreak snapshot build|verify` works on local embedding files without a service.)
struct SnapshotsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots", abstract: "Take, list and verify snapshots of a served collection.",
        subcommands: [Create.self, List.self, Verify.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Snapshot the collection as it serves now (every tenant's graph and BM25 index).")
        @Option(help: "Collection.") var collection: String
        @OptionGroup var client: ClientOptions
        func run() async throws {
            client.show(try await client.call("POST", "/v1/collections/\(segment(collection))/snapshots"))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The collection's snapshots, newest first.")
        @Option(help: "Collection.") var collection: String
        @OptionGroup var client: ClientOptions
        func run() async throws {
            client.show(try await client.call("GET", "/v1/collections/\(segment(collection))/snapshots"))
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a snapshot's files and scan what it would serve; clean makes it a last-clean target.")
        @Option(help: "Collection.") var collection: String
        @Argument(help: "Snapshot id.") var id: String
        @Option(help: "HubScan threshold (default 5.0).") var threshold: Double?
        @OptionGroup var client: ClientOptions
        func run() async throws {
            let body = ScanSettingsBody(threshold: threshold)
            client.show(try await client.call("POST", "/v1/collections/\(segment(collection))/snapshots/\(segment(id))/verify",
                                              body: body))
        }
    }
}

/// `firebreak rollback`: restore a collection (or one tenant) from a snapshot.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback", abstract: "Roll a collection (or one tenant) back to a snapshot, under an incident.",
        discussion: """
        Documents ingested after the snapshot stop being served (they are kept as evidence); the \
        quarantine stays applied. Without --incident the collection's open incident is used, or \
        one is declared with --reason. Commanders and admins only.
        """)
    @Option(help: "Collection.") var collection: String
    @Option(help: "Snapshot id, or last-clean (the newest verified-clean snapshot).") var to: String = "last-clean"
    @Option(help: "Only this tenant's partition.") var tenant: String?
    @Option(help: "Incident id (INC-nnnnnn).") var incident: String?
    @Option(help: "Why (the title of an incident declared for it).") var reason: String?
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let body = RollbackBody(snapshotID: to, incidentID: incident, tenant: tenant, reason: reason)
        client.show(try await client.call("POST", "/v1/collections/\(segment(collection))/rollback", body: body))
    }
}

/// `firebreak rebuild`: rebuild a tenant's graph behind the BM25 fallback, optionally waiting.
struct RebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild", abstract: "Rebuild a collection's (or one tenant's) graph from the record minus the quarantine.")
    @Option(help: "Collection.") var collection: String
    @Option(help: "Only this tenant's partition.") var tenant: String?
    @Option(help: "Incident id (INC-nnnnnn).") var incident: String?
    @Option(help: "Why (the title of an incident declared for it).") var reason: String?
    @Flag(help: "Refuse the new graph unless a HubScan of it is clean.") var validateScan = false
    @Flag(help: "Wait for the job to finish, showing its progress.") var wait = false
    @OptionGroup var client: ClientOptions

    /// How often `--wait` polls the job.
    static let pollMilliseconds = 250

    func run() async throws {
        let body = RebuildBody(tenant: tenant, incidentID: incident, reason: reason, validateScan: validateScan)
        let started = try await client.call("POST", "/v1/collections/\(segment(collection))/rebuild", body: body)
        guard wait else { return client.show(started) }
        let job = try decodeReply(JobStartedBody.self, from: started).jobID
        while true {
            let data = try await ClientOptions.quiet(client).call("GET", "/v1/jobs/\(job)")
            let state = try decodeReply(JobBody.self, from: data)
            Console.progress("job \(job): \(state.state) \(Int(state.progress * 100)) %")
            if state.isFinished {
                client.show(data)
                if state.state != JobBody.succeeded { throw ExitCode(1) }
                return
            }
            try await Task.sleep(for: .milliseconds(Self.pollMilliseconds))
        }
    }
}

/// `firebreak blast-radius INC-…`: who was served what an incident quarantined.
struct BlastRadiusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blast-radius", abstract: "Who was served the documents an incident quarantined, per tenant, with trace ids.")
    @Argument(help: "Incident id (INC-nnnnnn).") var incident: String
    @OptionGroup var client: ClientOptions
    func run() async throws {
        client.show(try await client.call("GET", "/v1/incidents/\(segment(incident))/blast-radius"))
    }
}
