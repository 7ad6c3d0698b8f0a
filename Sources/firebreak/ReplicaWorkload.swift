import Dispatch
import FirebreakAPI
import Foundation
import ServiceBench

/// The requests `bench replicas` makes, over HTTP, on one collection of seeded documents.
/// Every quarantine goes on one incident; each write returns the `seq` it was applied at.
final class ReplicaWorkload: @unchecked Sendable {
    static let collection = "bench"
    static let batchDocuments = 500
    static let ingestClients = 2

    let corpus: BenchCorpus
    let documents: Int
    private let lock = NSLock()
    private var incidentID = ""
    private var lateRows = 0

    init(corpus: BenchCorpus, documents: Int) {
        self.corpus = corpus
        self.documents = documents
    }

    var path: String { "/v1/collections/\(Self.collection)" }

    func create(on client: APIClient) async throws {
        let collection = CreateCollectionBody(name: Self.collection, dimension: corpus.vectors.dimension, metric: "cosine")
        _ = try await expectSuccess(client.send("POST", "/v1/collections", body: collection))
        let incident = try await expectSuccess(client.send("POST", "/v1/incidents",
                                                           body: DeclareIncidentBody(title: "bench replicas", severity: "SEV-2")))
        incidentID = try incident.decoded(IncidentBody.self).id
    }

    /// Ingests every document in batches from `ingestClients` clients; documents per second.
    func ingestAll(on client: APIClient) async throws -> Double {
        let started = DispatchTime.now().uptimeNanoseconds
        let batches = stride(from: 0, to: documents, by: Self.batchDocuments).map { $0..<min($0 + Self.batchDocuments, documents) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<Self.ingestClients {
                group.addTask { [self] in
                    for index in stride(from: worker, to: batches.count, by: Self.ingestClients) {
                        let body = Data(("{\"documents\":[" + batches[index].map { documentJSON(row: $0, id: corpus.id($0)) }
                            .joined(separator: ",") + "]}").utf8)
                        _ = try await expectSuccess(client.send("POST", path + "/documents", json: body))
                        if index % 20 == 0 { Console.progress("ingested batch \(index + 1)/\(batches.count)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(documents) / secondsSince(started)
    }

    func snapshot(on client: APIClient) async throws {
        _ = try await expectSuccess(client.send("POST", path + "/snapshots"))
    }

    /// `count` distinct rows spread over the corpus, to quarantine one by one.
    func targets(count: Int) -> [Int] {
        (0..<count).map { $0 * (documents / count) }
    }

    /// Quarantines the document of `row`; the seq it is visible at.
    func quarantine(_ row: Int, on client: APIClient) async throws -> Int64 {
        let body = QuarantineBody(ids: [corpus.id(row)], reason: "bench replicas", incidentID: incidentID, tenant: corpus.tenant(row))
        return try seq(of: await expectSuccess(client.send("POST", path + "/quarantine", body: body)))
    }

    /// Ingests one new document (a copy of `row`'s vector under a fresh id); its seq.
    func ingestLate(like row: Int, on client: APIClient) async throws -> Int64 {
        let id = lock.withLock { lateRows += 1; return "late-\(lateRows)" }
        let body = Data("{\"documents\":[\(documentJSON(row: row, id: id))]}".utf8)
        return try seq(of: await expectSuccess(client.send("POST", path + "/documents", json: body)))
    }

    /// A vector search aimed at `row`'s document (optionally at `minSeq`): the reply.
    func probe(_ row: Int, minSeq: Int64? = nil, on client: APIClient) async throws -> APIClient.Reply {
        var body = corpus.probe(row)
        body.minSeq = minSeq
        return try await client.send("POST", path + "/search", body: body)
    }

    func search(_ index: Int, minSeq: Int64? = nil, on client: APIClient) async throws -> APIClient.Reply {
        var body = corpus.query(index, mode: .vector)
        body.minSeq = minSeq
        return try await client.send("POST", path + "/search", body: body)
    }

    /// One document as JSON, written by hand: Foundation's serializer is the bottleneck of a
    /// 100,000 × 384 ingest otherwise.
    private func documentJSON(row: Int, id: String) -> String {
        let vector = corpus.vectors.row(row).map { String($0) }.joined(separator: ",")
        return "{\"id\":\"\(id)\",\"tenant\":\"\(corpus.tenant(row))\",\"text\":\"\(corpus.text(row))\",\"embedding\":[\(vector)]}"
    }

    private func seq(of reply: APIClient.Reply) throws -> Int64 {
        struct Stamp: Decodable { var seq: Int64? }
        guard let seq = try reply.decoded(Stamp.self).seq else {
            throw BenchFailure("a write answered without a seq: \(String(decoding: reply.body.prefix(300), as: UTF8.self))")
        }
        return seq
    }
}
