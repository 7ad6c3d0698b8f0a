import Engine
import FirebreakAPI
import Foundation
import Hummingbird
import Store

extension API {
    func addDocumentRoutes(to router: Router<APIContext>) {
        router.post("/v1/collections/:name/documents") { request, context in
            let name = try context.parameters.require("name")
            return try await mutation(request, context, permission: .write) { buffer, caller in
                let collection = try collections.named(name)
                let body = try decodeIngest(buffer)
                guard body.documents.count <= limits.ingestBatchMax else {
                    throw Problem(.badRequest, .invalidInput,
                                  "\(body.documents.count) documents in one request; the limit is \(limits.ingestBatchMax)")
                }
                let batch = try body.documents.enumerated().map { (index, document) throws(Problem) -> NewDocument in
                    guard let tenant = try caller.tenant(requested: document.tenant) else {
                        throw Problem(.badRequest, .invalidInput, "documents[\(index)]: \"tenant\" is required")
                    }
                    let metadata = try JSONEncoder.api.encodeOrProblem(document.metadata ?? .object([:]))
                    guard case .object = document.metadata ?? .object([:]) else {
                        throw Problem(.badRequest, .invalidInput, "documents[\(index)]: metadata must be a JSON object")
                    }
                    return NewDocument(externalID: document.id, tenant: tenant, text: document.text,
                                       embedding: document.embedding, metadataJSON: metadata)
                }
                let outcome = try await collections.ingest(batch, into: collection)
                return try reply(IngestResultBody(
                    ingested: outcome.rowIDs.count, ids: batch.map(\.externalID),
                    screened: outcome.screened.map { ScreenedBody(id: $0.externalID, tenant: $0.tenant, wouldEnterTopK: $0.wouldEnterTopK,
                                                                  z: $0.z, threshold: $0.threshold, scanID: $0.scanID) },
                    held: outcome.held, incidentID: outcome.incidentID), status: .created)
            }
        }
        router.get("/v1/collections/:name/documents/:id") { request, context in
            let caller = try context.requireCaller()
            try caller.require(.read)
            var minSeq: Int64?
            if let text = request.uri.queryParameters["min_seq"] {
                guard let value = Int64(text) else {
                    throw Problem(.badRequest, .invalidInput, "min_seq must be a change-log position (an integer)")
                }
                minSeq = value
            }
            let collection = try await self.collection(try context.parameters.require("name"), minSeq: minSeq)
            let id = try Self.documentID(context)
            let scope = try caller.tenant(requested: request.uri.queryParameters["tenant"].map(String.init))
            // The engine says which tenant holds the id; PostgreSQL, reading as the reader role
            // under that tenant, has the last word (quarantined, deleted or foreign rows: none).
            guard let (rowID, tenant) = try collection.locate(externalID: id, scope: scope),
                  let stored = try await pool.withConnection({ try DocumentRecords.fetch(rowID: rowID, tenant: tenant, on: $0) })
            else {
                throw Problem(.notFound, .unknownDocument, "no document \"\(id.prefix(128))\" in \(collection.configuration.name)")
            }
            let metadata = (try? JSONDecoder().decode(JSONValue.self, from: Data(stored.record.metadataJSON.utf8))) ?? .object([:])
            return Self.response(try reply(DocumentBody(
                id: stored.record.externalID, tenant: stored.record.tenant, text: stored.record.text,
                embedding: stored.record.embedding, metadata: metadata, contentSHA256: stored.contentSHA256,
                ingestedAt: stored.ingestedAt)))
        }
        router.delete("/v1/collections/:name/documents/:id") { request, context in
            let name = try context.parameters.require("name")
            let id = try Self.documentID(context)
            let requested = request.uri.queryParameters["tenant"].map(String.init)
            return try await mutation(request, context, permission: .write) { _, caller in
                let collection = try collections.named(name)
                try await collections.delete(externalID: id, scope: try caller.tenant(requested: requested), from: collection)
                return try reply(DeletedBody(id: id, deleted: true))
            }
        }
    }
}

extension API {
    /// The `:id` path segment percent-decoded: document ids may hold `/`, spaces, `%` or
    /// non-ASCII, which a client sends encoded (`x%2Fy`). Malformed escapes are a 400.
    static func documentID(_ context: APIContext) throws -> String {
        let raw = try context.parameters.require("id")
        guard let decoded = raw.removingPercentEncoding, !decoded.isEmpty else {
            throw Problem(.badRequest, .invalidInput, "the document id in the path is not valid percent-encoded UTF-8")
        }
        return decoded
    }
}

extension JSONEncoder {
    func encodeOrProblem(_ value: some Encodable) throws(Problem) -> String {
        do { return String(decoding: try encode(value), as: UTF8.self) } catch {
            throw Problem(.badRequest, .invalidInput, "a value could not be encoded as JSON")
        }
    }
}
