import FirebreakAPI
import FirebreakTestSupport
import Foundation
import XCTest

/// `embedding_b64` (issue 19): the same document as the array form, and every malformed
/// variant refused with a 400 that names the field, writing nothing.
final class EmbeddingBase64Tests: XCTestCase {
    func testBase64EmbeddingsIngestLikeArraysAndBadOnesAreRefused() async throws {
        let harness = try await Harness.start()
        let collection = try await harness.collection(dimension: 4)
        let admin = harness.admin
        let path = "/v1/collections/\(collection)"
        let vector: [Float] = [0.25, -1.5, 3.0e-7, 8]
        let encoded = EmbeddingBase64.encode(vector)
        XCTAssertEqual(EmbeddingBase64.decode(encoded), vector, "round trip, bit for bit")
        // Little-endian float32, as numpy's astype("<f4").tobytes() writes it.
        XCTAssertEqual(EmbeddingBase64.encode([1]), Data([0x00, 0x00, 0x80, 0x3F]).base64EncodedString())

        let created = try await admin.post(path + "/documents", ["documents": [
            ["id": "b64", "tenant": "acme", "text": "base64 form", "embedding_b64": encoded],
            ["id": "arr", "tenant": "acme", "text": "array form", "embedding": [0, 1, 0, 0]],
        ]])
        XCTAssertEqual(created.status, 201, String(decoding: created.body, as: UTF8.self))
        let fetched = try await admin.get(path + "/documents/b64?tenant=acme").object()
        XCTAssertEqual((fetched["embedding"] as? [Double])?.map(Float.init), vector)
        let hits = try await admin.searchIDs(collection, ["vector": vector.map(Double.init), "tenant": "acme", "k": 1])
        XCTAssertEqual(hits, ["b64"])

        func refused(_ document: [String: Any], _ mentions: String, line: UInt = #line) async throws {
            let reply = try await admin.post(path + "/documents", ["documents": [document]])
            XCTAssertEqual(reply.status, 400, String(decoding: reply.body, as: UTF8.self), line: line)
            XCTAssertTrue(reply.problem?.detail.contains(mentions) ?? false, "\(reply.problem?.detail ?? "no problem")", line: line)
        }
        let base: [String: Any] = ["id": "x", "tenant": "acme", "text": "t"]
        try await refused(base.merging(["embedding_b64": "not base64!"]) { $1 }, "embedding_b64")
        try await refused(base.merging(["embedding_b64": Data([1, 2, 3, 4, 5, 6]).base64EncodedString()]) { $1 }, "embedding_b64")
        try await refused(base.merging(["embedding_b64": encoded, "embedding": [1, 0, 0, 0]]) { $1 }, "not both")
        try await refused(base, "embedding")
        try await refused(base.merging(["embedding_b64": EmbeddingBase64.encode([1, 0, 0])]) { $1 }, "dimension")
        try await refused(base.merging(["embedding_b64": EmbeddingBase64.encode([1, .nan, 0, 0])]) { $1 }, "embedding")
        let status = try await admin.get(path).decoded(CollectionBody.self)
        XCTAssertEqual(status.documents, 2, "nothing refused was written")
        try await harness.stop()
    }
}
