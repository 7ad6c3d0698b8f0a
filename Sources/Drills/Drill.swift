// Drills: the corpus-poisoning game day, as a library.
//
// Owns: the drill's steps against one running service (`Drill`), the generated collection
// (`DrillCorpus`), the query load it runs meanwhile (`DrillLoad`) and what it found
// (`DrillReport`). Every request and reply is a `FirebreakAPI` type.
//
// Never: links the service's internals (Server, Engine, Store): it sees the service only
// over HTTP, as an operator's tooling would; prints (progress goes to the caller's closure).
//
// Invariants: a drill works in a collection of its own; a failed step throws a `DrillError`
// naming the step, never a half-filled report.
import Diagnostics
import FirebreakAPI
import Foundation

public enum DrillErrorCode: String, ErrorCode {
    /// The service answered a step with an error (the problem's code and detail follow).
    case refused
    /// A reply did not match the contract.
    case unexpectedReply = "unexpected_reply"
    /// The clean collection's snapshot did not verify clean at the threshold.
    case notClean = "not_clean"
    /// Containment or the rebuild did not happen in time, or the rebuild failed.
    case timedOut = "timed_out"
    case rebuildFailed = "rebuild_failed"
}

public typealias DrillError = CodedError<DrillErrorCode>

/// The game day's steps, in order, against one service (the CLI's `firebreak drill`).
public struct Drill: Sendable {
    /// The drill's size and pace (the CLI's options, checked there).
    public struct Settings: Sendable {
        public var documents = 4_000
        public var dimension = 64
        public var topics = 40
        public var hubs = 5
        public var goldenQueries = 200
        public var clients = 4
        public var scanEvery = 10
        public var threshold: Double?
        public var postmortemDir = "."
        public var seed: UInt64 = 7

        public init() {}
    }

    public static let jobWaitSeconds = 900.0
    /// Leaked answers the report names one by one (the count covers them all).
    static let leaksNamedMax = 10

    let settings: Settings
    let client: APIClient
    let corpus: DrillCorpus
    let collection: String
    let path: String
    let progress: @Sendable (String) -> Void
    /// How long the drill waits for the scheduled scan to contain the hubs.
    var containmentWaitSeconds: Double { Double(settings.scanEvery) * 3 + 60 }

    public init(settings: Settings, client: APIClient, progress: @escaping @Sendable (String) -> Void = { _ in }) {
        precondition(settings.documents >= settings.goldenQueries && settings.goldenQueries > 0 && settings.clients > 0
                     && (1...settings.topics).contains(settings.hubs), "the settings were validated")
        self.settings = settings
        self.client = client
        self.progress = progress
        corpus = DrillCorpus(documents: settings.documents, dimension: settings.dimension, clusters: settings.topics,
                             seed: settings.seed)
        collection = "drill-\(Int(Date().timeIntervalSince1970))-\(UInt16.random(in: 0...UInt16.max))"
        path = "/v1/collections/\(collection)"
    }

    public func run() async throws -> DrillReport {
        var report = DrillReport(collection: collection, hubsPlanted: settings.hubs)
        try await ingest()
        let golden = (0..<settings.goldenQueries).map { $0 * settings.documents / settings.goldenQueries }
        report.mrrBefore = try await meanReciprocalRank(golden)
        progress("MRR@10 of \(golden.count) golden queries: \(format(report.mrrBefore))")
        // The same queries (vector only) become the service's golden set: every rebuild is held to them.
        let goldenSet = GoldenQueriesBody(queries: golden.map { row in
            GoldenQueryBody(tenant: DrillCorpus.tenant, vector: corpus.golden(row, seed: settings.seed).vector ?? [],
                            relevant: [corpus.id(row)])
        })
        _ = try await call("PUT", path + "/golden-queries", goldenSet, as: GoldenSummaryBody.self)
        let threshold = try await calibrate(&report)
        try await snapshotClean(threshold: threshold)

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
}

extension Drill {
    // MARK: setting up

    func ingest() async throws {
        _ = try await call("POST", "/v1/collections", CreateCollectionBody(name: collection, dimension: settings.dimension, metric: "cosine"),
                           as: CollectionBody.self)
        let batch = 500
        for start in stride(from: 0, to: settings.documents, by: batch) {
            let rows = start..<min(start + batch, settings.documents)
            _ = try await call("POST", path + "/documents", IngestBody(documents: rows.map(corpus.document)), as: IngestResultBody.self)
            progress("ingested \(rows.upperBound) / \(settings.documents) documents")
        }
    }

    /// Scans the clean collection: the threshold is max(5, 1.2 × its highest z) unless given.
    func calibrate(_ report: inout DrillReport) async throws -> Double {
        let scan = try await call("POST", path + "/scans", ScanRequestBody(tenant: DrillCorpus.tenant), as: ScanResultBody.self)
        let threshold = settings.threshold ?? max(5, (scan.maxZ * 1.2 * 10).rounded(.up) / 10)
        report.cleanMaxZ = scan.maxZ
        report.threshold = threshold
        progress("clean collection: highest z \(format(scan.maxZ)); threshold \(format(threshold))")
        return threshold
    }

    /// Snapshots the clean collection and verifies it clean: the last-clean rollback target.
    func snapshotClean(threshold: Double) async throws {
        let snapshot = try await call("POST", path + "/snapshots", as: SnapshotBody.self)
        let verified = try await call("POST", path + "/snapshots/\(snapshot.id)/verify", ScanSettingsBody(threshold: threshold),
                                      as: VerificationBody.self)
        guard verified.clean else {
            throw DrillError(.notClean, "the clean snapshot did not verify clean (max z \(verified.maxZ) ≥ \(threshold)); pass a higher --threshold")
        }
        progress("snapshot \(snapshot.id) verified clean (root hash \(snapshot.rootHash.prefix(12))…)")
    }

    // MARK: HTTP

    /// Sends a request and decodes its reply (`APIClient.call`); a refusal or a reply that does
    /// not match is a `DrillError` naming the step.
    func call<Reply: Decodable>(_ method: String, _ path: String, _ body: (any Encodable)? = nil,
                                as type: Reply.Type) async throws -> Reply {
        do { return try await client.call(method, path, body: body, as: type) } catch let error as CallError { throw Self.drillError(error) }
    }

    @discardableResult
    func send(_ method: String, _ path: String, _ body: (any Encodable)? = nil) async throws -> APIClient.Reply {
        do { return try await client.succeeded(method, path, body: body) } catch let error as CallError { throw Self.drillError(error) }
    }

    static func drillError(_ error: CallError) -> DrillError {
        switch error {
        case .refused: DrillError(.refused, error.description)
        case .unexpectedReply: DrillError(.unexpectedReply, error.description)
        }
    }

    func timeline(_ incident: String) async throws -> [EventBody] {
        try await call("GET", "/v1/incidents/\(incident)/timeline", as: TimelineBody.self).events
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
