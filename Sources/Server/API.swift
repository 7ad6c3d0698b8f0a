import Crypto
import Dispatch
import Engine
import FirebreakAPI
import Foundation
import Hex
import HTTPTypes
import Hummingbird
import NIOCore
import Store

/// What every route needs: the engine, the store, the limits, the metrics.
struct API: Sendable {
    let collections: LiveCollections
    let pool: ConnectionPool
    let limits: ServerLimits
    let metrics: ServiceMetrics
    let scheduler: ScanScheduler
    /// How long a read demanding `min_seq` waits for this replica (`--consistency-wait-ms`).
    let consistencyWaitMs: Int
    /// Signs incident export bundles; nil when the server was configured without one.
    let signingKey: IncidentSigningKey?

    /// A response body and status, before it becomes a `Response` (so it can be stored).
    struct Reply: Sendable {
        var status: HTTPResponse.Status = .ok
        var data: Data
        var contentType = "application/json"
    }

    func reply(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Reply {
        Reply(status: status, data: try JSONEncoder.api.encode(value))
    }

    static func response(_ reply: Reply, replayed: Bool = false) -> Response {
        var headers: HTTPFields = [.contentType: reply.contentType]
        if replayed { headers[Self.replayedHeader] = "true" }
        return Response(status: reply.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: reply.data)))
    }

    static let idempotencyKeyHeader = HTTPField.Name("Idempotency-Key")!
    static let seqHeader = HTTPField.Name("Firebreak-Seq")!
    static let appliedSeqHeader = HTTPField.Name("Firebreak-Applied-Seq")!
    /// How often a read demanding `min_seq` looks at the replica's position while it waits.
    static let consistencyPollMilliseconds = 2

    /// Waits until this replica has applied `minSeq` for `collection` (at most
    /// `consistencyWaitMs`), else 503 `replica_behind` with Retry-After.
    func awaitApplied(_ minSeq: Int64?, in collection: LiveCollection?) async throws(Problem) {
        guard let minSeq, minSeq > 0 else {
            if let minSeq, minSeq < 0 { throw Problem(.badRequest, .invalidInput, "min_seq must be a change-log position (0 or more)") }
            return
        }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(consistencyWaitMs) * 1_000_000
        let applied = { collection.map(collections.appliedSeq(of:)) ?? collections.replica.appliedSeq }
        while applied() < minSeq {
            if let problem = collections.replica.problem {
                throw Problem(.serviceUnavailable, .replicaBehind, "replica \(collections.replica.name) stopped applying changes: \(problem)")
            }
            guard DispatchTime.now().uptimeNanoseconds < deadline else {
                var problem = Problem(.serviceUnavailable, .replicaBehind,
                                      "replica \(collections.replica.name) has applied change \(applied()), not yet \(minSeq); retry (or another replica)")
                problem.headers[.retryAfter] = "1"
                throw problem
            }
            try? await Task.sleep(for: .milliseconds(Self.consistencyPollMilliseconds))
        }
    }

    /// The collection `name` once this replica has applied `minSeq` (a collection created at
    /// that position included).
    func collection(_ name: String, minSeq: Int64?) async throws -> LiveCollection {
        if minSeq != nil, (try? collections.named(name)) == nil { try await awaitApplied(minSeq, in: nil) }
        let collection = try collections.named(name)
        try await awaitApplied(minSeq, in: collection)
        return collection
    }

    /// `{"seq":N,…}`: a mutating response's body with the change-log position of its effect
    /// first (every mutating response is a JSON object).
    static func stamped(_ data: Data, seq: Int64) -> Data {
        guard data.first == UInt8(ascii: "{") else { return data }
        let rest = data.dropFirst()
        let separator = rest.first(where: { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }) == UInt8(ascii: "}") ? "" : ","
        return Data("{\"seq\":\(seq)\(separator)".utf8) + rest
    }
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    // MARK: Bodies

    /// The whole body, up to `bodyBytesMax` (413 beyond).
    func body(of request: Request) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limits.bodyBytesMax {
            throw Self.tooLarge(limits.bodyBytesMax)
        }
        do {
            return try await request.body.collect(upTo: limits.bodyBytesMax)
        } catch is NIOTooManyBytesError {
            throw Self.tooLarge(limits.bodyBytesMax)
        }
    }

    static func tooLarge(_ limit: Int) -> Problem {
        Problem(.contentTooLarge, .bodyTooLarge, "the request body is larger than \(limit) bytes (bodyBytesMax)")
    }

    /// Decodes JSON; every failure is a 400 that names the field and the problem.
    func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws(Problem) -> T {
        let bytes = buffer.readableBytesView
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw Problem(.badRequest, .invalidUTF8, "the request body is not valid UTF-8")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw Problem(.badRequest, .malformedJSON, Self.describe(error))
        } catch {
            throw Problem(.badRequest, .malformedJSON, "the request body is not valid JSON")
        }
    }

    static func describe(_ error: DecodingError) -> String { error.fieldDescription }

    /// An ingest body: read directly when `IngestBodyReader` is sure of it (the embeddings'
    /// numbers are most of the work), else by `decode`, which accepts it or names the problem.
    func decodeIngest(_ buffer: ByteBuffer) throws(Problem) -> IngestBody {
        let direct = buffer.readableBytesView.withContiguousStorageIfAvailable { IngestBodyReader.read(UnsafeRawBufferPointer($0)) }
        if let body = direct ?? nil { return body }
        return try decode(IngestBody.self, from: buffer)
    }

    // MARK: Mutations

    /// Runs a mutating request exactly once per Idempotency-Key, on every replica: a missing
    /// key is 400; the key is claimed in PostgreSQL before the request acts, so the same key
    /// while its first request runs is 409 `idempotency_key_in_use` here or on any replica;
    /// a replay returns the stored response byte for byte; the same key with another request
    /// is 422. The claim is marked committed in the action's own write transaction, so even a
    /// lost response never lets a retry act twice (409 `idempotency_key_committed`).
    func mutation(_ request: Request, _ context: APIContext, permission: Permission,
                  _ body: @Sendable (ByteBuffer, Caller) async throws -> Reply) async throws -> Response {
        let caller = try context.requireCaller()
        try caller.require(permission)
        guard let key = request.headers[Self.idempotencyKeyHeader], !key.isEmpty else {
            throw Problem(.badRequest, .idempotencyKeyRequired, "mutating requests need an Idempotency-Key header")
        }
        guard key.utf8.count <= limits.idempotencyKeyBytesMax else {
            throw Problem(.badRequest, .invalidIdempotencyKey, "Idempotency-Key is longer than \(limits.idempotencyKeyBytesMax) bytes")
        }
        let buffer = try await self.body(of: request)
        let claim = IdempotencyClaim(tokenDigest: caller.tokenDigest, key: key,
                                     requestSHA256: IdempotencyClaim.requestDigest(method: request.method.rawValue, path: request.uri.path,
                                                                                   body: Data(buffer.readableBytesView)))
        if let earlier = try await claim.acquire(on: pool) { return earlier }
        let receipt = WriteReceipt { connection, seq in try claim.markCommitted(seq: seq, on: connection) }
        var reply: Reply
        do {
            reply = try await WriteReceipt.$current.withValue(receipt) { try await body(buffer, caller) }
            if let seq = receipt.seq { reply.data = Self.stamped(reply.data, seq: seq) }
        } catch {
            let problem = Problem.from(error)
            if problem.status.code >= 500 && !receipt.committed {
                // It took no effect: the key is free for a retry.
                _ = try? await pool.withConnection { try claim.release(on: $0) }
                throw problem
            }
            // Refused (4xx), or failed after its effect committed: this is the answer, replayed as is.
            let stored = Reply(status: problem.status, data: try JSONEncoder.api.encode(problem.body),
                               contentType: "application/problem+json")
            try await pool.withConnection { try claim.complete(stored, seq: receipt.seq, on: $0) }
            throw problem
        }
        try await pool.withConnection { [reply] in try claim.complete(reply, seq: receipt.seq, on: $0) }
        var response = Self.response(reply)
        if let seq = receipt.seq { response.headers[Self.seqHeader] = String(seq) }
        return response
    }
}

/// One request's hold on its Idempotency-Key (`IdempotencyRecords`), and what a replay answers.
struct IdempotencyClaim: Sendable {
    let tokenDigest: String
    let key: String
    let requestSHA256: String

    /// What makes two requests "the same" for a key: method, path and body bytes.
    static func requestDigest(method: String, path: String, body: Data) -> String {
        var hasher = SHA256()
        hasher.update(data: Data("\(method) \(path)\n".utf8))
        hasher.update(data: body)
        return hasher.finalize().hexEncoded
    }

    /// Claims the key; nil when the caller may act now, else the answer for a key already used.
    func acquire(on pool: ConnectionPool) async throws -> Response? {
        switch try await pool.withConnection({ [self] in
            try IdempotencyRecords.claim(tokenDigest: tokenDigest, key: key, requestSHA256: requestSHA256, on: $0)
        }) {
        case .claimed:
            return nil
        case .otherRequest:
            throw Problem(.unprocessableContent, .idempotencyKeyReused, "this Idempotency-Key was used for a different request")
        case .running:
            throw Problem(.conflict, .idempotencyKeyInUse, "a request with this Idempotency-Key is still running (on this or another replica)")
        case .committed(let seq):
            throw Problem(.conflict, .idempotencyKeyCommitted,
                          "the request with this Idempotency-Key took effect\(seq.map { " at seq \($0)" } ?? ""), but its response was not stored; read the resource for the outcome, and use a new key for a new request")
        case .completed(let stored):
            var replayed = API.response(API.Reply(status: HTTPResponse.Status(code: stored.statusCode), data: Data(stored.body),
                                              contentType: stored.contentType), replayed: true)
            if let seq = stored.seq { replayed.headers[API.seqHeader] = String(seq) }
            return replayed
        }
    }

    func markCommitted(seq: Int64?, on connection: Connection) throws {
        try IdempotencyRecords.markCommitted(tokenDigest: tokenDigest, key: key, seq: seq, on: connection)
    }

    func complete(_ reply: API.Reply, seq: Int64?, on connection: Connection) throws {
        try IdempotencyRecords.complete(tokenDigest: tokenDigest, key: key, with: IdempotencyRecords.Stored(
            statusCode: reply.status.code, contentType: reply.contentType, body: Array(reply.data), seq: seq), on: connection)
    }

    func release(on connection: Connection) throws {
        try IdempotencyRecords.release(tokenDigest: tokenDigest, key: key, on: connection)
    }
}
