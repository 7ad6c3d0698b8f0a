import ArgumentParser
import Dispatch
import FirebreakAPI
import Foundation
import ServiceBench
import VectorMath

/// `firebreak bench ingest`: documents per second through HTTP into a durable PostgreSQL and
/// the live index, for the JSON-array and the base64 body, then a rebuild of the partition.
struct BenchIngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Measure ingest through HTTP (JSON and base64 bodies) and a partition rebuild on your vectors.",
        discussion: """
        Starts a throwaway embedded PostgreSQL with durable commits (fsync on; or uses \
        --database-url) and an in-process server on a free loopback port. For each body form it \
        creates a fresh collection and sends every document in batches from --clients concurrent \
        clients; the bodies are encoded before the clock starts, so the figure is the service's \
        (the encode time is reported beside it). A run counts once every batch is acknowledged: \
        committed in PostgreSQL and searchable. Then the last collection's partition is rebuilt \
        while --rebuild-search-clients clients send vector-only searches without pause (the \
        documents' own embeddings as queries): the rebuild's phases, how long the clients were \
        served degraded (exact-scan) answers, their latency, and failed or empty answers (both \
        must be 0).

        Example (the dev set):
          firebreak bench ingest --embeddings ../shared/devsets/manpages-minilm/doc_emb.f16.npy \\
            --texts ../shared/devsets/manpages-minilm/corpus.jsonl
        """)

    @Option(help: "Embeddings, one per document (.npy float32/float16, or .fvecs).") var embeddings: String
    @Option(help: "Texts, row i for embedding i (JSONL with a \"text\" field, or plain lines).") var texts: String?
    @Option(help: "Documents to ingest (0: every row of --embeddings).") var limit = 0
    @Option(help: "Documents per request (1...1000).") var batch = 500
    @Option(help: "Concurrent HTTP clients (1...64).") var clients = 2
    @Option(help: "Body forms to measure: json, base64 or both.") var body = "both"
    @Flag(inversion: .prefixedNo, help: "Rebuild the partition after the ingest and time it.") var rebuild = true
    @Option(help: "Clients searching without pause during the rebuild (0: no load).") var rebuildSearchClients = 1
    @Option(help: "libpq URL of a PostgreSQL to use instead of a throwaway embedded one.") var databaseURL: String?

    static let tenant = "bench"
    /// Distinct query vectors of the rebuild's search load (documents taken evenly).
    static let loadQueriesMax = 1_000

    func validate() throws {
        guard (1...1_000).contains(batch) else { throw ValidationError("--batch must be in 1...1000") }
        guard (1...64).contains(clients) else { throw ValidationError("--clients must be in 1...64") }
        guard ["json", "base64", "both"].contains(body) else { throw ValidationError("--body must be json, base64 or both") }
        guard limit >= 0 else { throw ValidationError("--limit must be 0 or more") }
        guard (0...64).contains(rebuildSearchClients) else { throw ValidationError("--rebuild-search-clients must be in 0...64") }
    }

    func run() async throws {
        let documents = try loadDocuments()
        let forms: [NewDocumentBody.EmbeddingEncoding] = body == "json" ? [.array] : body == "base64" ? [.base64] : [.array, .base64]
        let service = try await ThrowawayService.start(databaseURL: databaseURL, label: "bench-ingest", durable: true)
        do {
            var runs: [IngestRun] = []
            for form in forms {
                Console.progress("ingesting \(documents.count) documents with \(form == .array ? "JSON-array" : "base64") embeddings")
                runs.append(try await ingest(documents, form: form, client: service.client))
            }
            let rebuilt = rebuild ? try await rebuildPartition(of: runs[runs.count - 1].collection, documents: documents,
                                                               client: service.client) : nil
            try await service.stop()
            try Console.printJSON(IngestBenchReport(documents: documents.count, dimension: documents.first?.embedding.count ?? 0,
                                                    batch: batch, clients: clients, runs: runs, rebuild: rebuilt))
        } catch {
            try? await service.stop()
            throw error
        }
    }

    private func loadDocuments() throws -> [NewDocumentBody] {
        let matrix = try MatrixFile.readFloats(embeddings)
        let lines = try texts.map { try String(contentsOfFile: $0, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) }
        let count = limit == 0 ? matrix.rows : min(limit, matrix.rows)
        return (0..<count).map { row in
            let line = lines.flatMap { row < $0.count ? String($0[row]) : nil } ?? ""
            return NewDocumentBody(id: "r\(row)", tenant: Self.tenant, text: IngestCommand.text(of: line), embedding: matrix.row(row))
        }
    }

    /// One collection, every batch encoded first, then `clients` senders taking batches in turn.
    private func ingest(_ documents: [NewDocumentBody], form: NewDocumentBody.EmbeddingEncoding,
                        client: APIClient) async throws -> IngestRun {
        let collection = "bench-ingest-\(form == .array ? "json" : "base64")"
        _ = try await client.send("POST", "/v1/collections",
                                  body: CreateCollectionBody(name: collection, dimension: documents[0].embedding.count,
                                                             metric: "cosine")).succeeded()
        let encodeStarted = DispatchTime.now().uptimeNanoseconds
        let bodies: [Data] = try stride(from: 0, to: documents.count, by: batch).map { start in
            let slice = documents[start..<min(start + batch, documents.count)].map { document -> NewDocumentBody in
                var document = document
                document.embeddingEncoding = form
                return document
            }
            return try JSONEncoder.api.encode(IngestBody(documents: slice))
        }
        let encodeSeconds = secondsSince(encodeStarted)
        let path = "/v1/collections/\(collection)/documents", senders = clients
        let started = DispatchTime.now().uptimeNanoseconds
        try await withThrowingTaskGroup(of: Void.self) { group in
            for sender in 0..<senders {
                group.addTask {
                    for index in stride(from: sender, to: bodies.count, by: senders) {
                        _ = try await client.send("POST", path, json: bodies[index]).succeeded("batch \(index)")
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = secondsSince(started)
        let stored = try await client.send("GET", "/v1/collections/\(collection)").succeeded().decoded(CollectionBody.self)
        guard stored.documents == documents.count else {
            throw ValidationError("\(collection) holds \(stored.documents) documents after ingesting \(documents.count)")
        }
        let bytes = bodies.reduce(0) { $0 + $1.count }
        return IngestRun(body: form == .array ? "json" : "base64", collection: collection, seconds: seconds,
                         documentsPerSecond: Double(documents.count) / seconds, bodyBytesPerDocument: bytes / documents.count,
                         encodeSeconds: encodeSeconds)
    }

    private func rebuildPartition(of collection: String, documents: [NewDocumentBody],
                                  client: APIClient) async throws -> RebuildRun {
        Console.progress("rebuilding \(collection)'s partition" + (rebuildSearchClients > 0 ? " under \(rebuildSearchClients) searching client(s)" : ""))
        let started = DispatchTime.now().uptimeNanoseconds
        let launched = try await client.send("POST", "/v1/collections/\(collection)/rebuild",
                                             body: RebuildBody(tenant: Self.tenant, reason: "bench ingest rebuild"))
            .succeeded().decoded(JobStartedBody.self)
        let job = launched.jobID
        let finished = TimeMarks()
        let step = max(1, documents.count / Self.loadQueriesMax)
        let load = RebuildSearchLoad(client: client, collection: collection,
                                     queries: stride(from: 0, to: documents.count, by: step).map { documents[$0].embedding },
                                     clients: rebuildSearchClients)
        async let searched = rebuildSearchClients > 0 ? load.run(started: started, until: finished) : nil
        var state: JobBody
        repeat {
            try await Task.sleep(for: .milliseconds(50))
            state = try await client.send("GET", "/v1/jobs/\(job)").succeeded().decoded(JobBody.self)
        } while !state.isFinished
        let seconds = secondsSince(started)
        finished.record("done", at: 0)
        let searchLoad = await searched
        var phases: [String: Double] = [:]
        if let incident = launched.incidentID { phases = try await rebuildPhases(job: job, incident: incident, client: client) }
        return RebuildRun(collection: collection, state: state.state, seconds: seconds, phases: phases, error: state.error,
                          searchLoad: searchLoad)
    }

    /// The job's split (load, graph, validation, publish and swap), from its rebuild event's
    /// validation findings on the incident.
    private func rebuildPhases(job: Int64, incident: String, client: APIClient) async throws -> [String: Double] {
        let body = try await client.send("GET", "/v1/incidents/\(incident)/timeline").succeeded().body
        let timeline = try JSONSerialization.jsonObject(with: body)
        let events = (timeline as? [[String: Any]]) ?? ((timeline as? [String: Any])?["events"] as? [[String: Any]]) ?? []
        for event in events.reversed() {
            guard let payload = event["payload"] as? [String: Any], (payload["job_id"] as? NSNumber)?.int64Value == job,
                  let tenant = (payload["validation"] as? [String: Any])?[Self.tenant] as? [String: Any] else { continue }
            return tenant.compactMapValues { ($0 as? NSNumber)?.doubleValue }.filter { $0.key.hasSuffix("_seconds") }
        }
        return [:]
    }
}

struct IngestRun: Encodable {
    var body: String
    var collection: String
    var seconds: Double
    var documentsPerSecond: Double
    var bodyBytesPerDocument: Int
    var encodeSeconds: Double
}

struct RebuildRun: Encodable {
    var collection: String
    var state: String
    var seconds: Double
    /// load, graph, validation, publish_and_swap, degraded (until the partition left the
    /// rebuilding mode) and scan (the HubScan after it), in seconds, as the job recorded them.
    var phases: [String: Double]
    var error: String?
    var searchLoad: RebuildSearchLoad.Outcome?
}

struct IngestBenchReport: Encodable {
    var documents: Int
    var dimension: Int
    var batch: Int
    var clients: Int
    var runs: [IngestRun]
    var rebuild: RebuildRun?
}
