@testable import FirebreakAPI
import Foundation
import VectorMath
import XCTest

/// The ingest body's direct reader (issue 19) answers only when it is sure, and then exactly as
/// `JSONDecoder` would: the same documents, the same float bits. Everything else is left to
/// `JSONDecoder`, so the route's errors do not change.
final class IngestBodyReaderTests: XCTestCase {
    private func read(_ text: String) -> IngestBody? {
        Array(text.utf8).withUnsafeBytes { IngestBodyReader.read($0) }
    }

    private func decoded(_ text: String) -> IngestBody? {
        try? JSONDecoder().decode(IngestBody.self, from: Data(text.utf8))
    }

    /// The reader's answer, when it gives one, is JSONDecoder's, field for field and bit for bit.
    private func assertAgrees(_ text: String, mustRead: Bool = false, file: StaticString = #filePath, line: UInt = #line) {
        let direct = read(text)
        if mustRead { XCTAssertNotNil(direct, "read directly: \(text.prefix(120))", file: file, line: line) }
        guard let direct else { return }
        guard let reference = decoded(text) else {
            return XCTFail("read a body JSONDecoder refuses: \(text.prefix(200))", file: file, line: line)
        }
        XCTAssertEqual(direct.documents.count, reference.documents.count, file: file, line: line)
        for (a, b) in zip(direct.documents, reference.documents) {
            XCTAssertEqual(a.id, b.id, file: file, line: line)
            XCTAssertEqual(a.tenant, b.tenant, file: file, line: line)
            XCTAssertEqual(a.text, b.text, file: file, line: line)
            XCTAssertEqual(a.metadata, b.metadata, file: file, line: line)
            XCTAssertEqual(a.embeddingEncoding, b.embeddingEncoding, file: file, line: line)
            XCTAssertEqual(a.embedding.map(\.bitPattern), b.embedding.map(\.bitPattern), "\(text.prefix(200))", file: file, line: line)
        }
    }

    func testWellFormedBodiesAreReadDirectlyAndAsJSONDecoderReadsThem() {
        let b64 = EmbeddingBase64.encode([0.25, -1.5, 3e-7])
        for body in [
            #"{"documents":[]}"#,
            #"{"documents":[{"id":"a","text":"alpha","embedding":[1,0.5,-2.25e-3]}]}"#,
            " {\n \"documents\" : [ { \"id\" : \"a\" , \"tenant\" : \"acme\" , \"text\" : \"t\" , \"embedding\" : [ 0 , -0 , 1E2 ] } ] } \n",
            #"{"documents":[{"id":"a","tenant":null,"text":"t","embedding":[1],"metadata":null}]}"#,
            #"{"documents":[{"id":"a","text":"t","embedding":null,"embedding_b64":"\#(b64)"}]}"#,
            #"{"documents":[{"id":"a","text":"t","embedding_b64":"\#(b64)","metadata":{"lang":"en","n":[1,2.5,{"x":null}],"ok":true}}]}"#,
            #"{"extra":{"ignored":[1,"two",false]},"documents":[{"id":"a","text":"t","embedding":[1],"unknown":"x"}]}"#,
            #"{"documents":[{"id":"\u00e9\ud83d\ude00\n\t\"\\\/","text":"caf\u00E9 — ünïcode 😀","embedding":[1]}]}"#,
            #"{"documents":[{"id":"a","text":"t","embedding":[0.1,0.2,0.30000001192092896,1.2345678918063641e-07,123456789012345678901234,0.000000000000000000000000000000000001]}]}"#,
        ] {
            assertAgrees(body, mustRead: true)
        }
    }

    /// What the service's own clients send (`JSONEncoder.api`, both embedding forms, texts with
    /// quotes, newlines and non-ASCII) is read directly, every time.
    func testTheClientsBodiesAreReadDirectly() throws {
        var rng = SplitMix64(seed: 384)
        for encoding in [NewDocumentBody.EmbeddingEncoding.array, .base64] {
            var documents: [NewDocumentBody] = []
            for i in 0..<50 {
                let embedding: [Float] = (0..<384).map { _ in Float(Double(rng.next() % 2_000_001) / 1_000_000 - 1) }
                let metadata: JSONValue? = i % 3 == 0 ? .object(["page": .number(Double(i)), "tags": .array([.string("a/b")])]) : nil
                documents.append(NewDocumentBody(id: "doc-\(i)", tenant: i % 2 == 0 ? "acme" : nil, text: "line \"\(i)\"\n— naïve/über",
                                                 embedding: embedding, metadata: metadata, embeddingEncoding: encoding))
            }
            let text = String(decoding: try JSONEncoder.api.encode(IngestBody(documents: documents)), as: UTF8.self)
            assertAgrees(text, mustRead: true)
            XCTAssertEqual(read(text)?.documents.map { $0.embedding }, documents.map { $0.embedding })
            // One document per line, as `firebreak ingest` reads JSONL (here with a CRLF ending).
            for document in documents.prefix(5) {
                let line = try JSONEncoder.api.encode(document) + Data("\r".utf8)
                let direct = line.withUnsafeBytes { IngestBodyReader.readDocument($0) }
                XCTAssertEqual(direct?.embedding, document.embedding)
                XCTAssertEqual(direct?.text, document.text)
            }
        }
        for line in ["", "{}", #"{"id":"a","text":"t","embedding":[1]} {"#, #"{"id":"a","text":"t","embedding":[1e99]}"#] {
            XCTAssertNil(Array(line.utf8).withUnsafeBytes { IngestBodyReader.readDocument($0) }, line)
        }
    }

    /// Malformed or doubtful bodies are never read directly; JSONDecoder keeps its say.
    func testAnythingInDoubtIsLeftToJSONDecoder() {
        for body in [
            "", "[]", "null", #"{"documents":{}}"#, #"{"documents":null}"#,
            #"{"documents":[{"id":"a","text":"t","embedding":[1]}]} x"#,
            #"{"documents":[{"id":"a","text":"t","embedding":[1],}]}"#,
            #"{"documents":[{"id":"a","text":"t","embedding":[1,]}]}"#,
            #"{"documents":[{"id":"a","text":"t"}]}"#,                              // no embedding
            #"{"documents":[{"id":1,"text":"t","embedding":[1]}]}"#,                // mistyped id
            #"{"documents":[{"text":"t","embedding":[1]}]}"#,                        // no id
            #"{"documents":[{"id":"a","id":"b","text":"t","embedding":[1]}]}"#,     // duplicate key
            #"{"documents":[{"id":"a","text":"t","embedding":[1],"embedding_b64":"AACAPw=="}]}"#,  // both
            #"{"documents":[{"id":"a","text":"t","embedding_b64":"AACA"}]}"#,       // not whole floats
            #"{"documents":[{"id":"a","text":"t","embedding":[01]}]}"#,
            #"{"documents":[{"id":"a","text":"t","embedding":[1.]}]}"#,
            #"{"documents":[{"id":"a","text":"t","embedding":[.5]}]}"#,
            #"{"documents":[{"id":"a","text":"t","embedding":[-]}]}"#,
            #"{"documents":[{"id":"a","text":"t","embedding":[1e]}]}"#,
            #"{"documents":[{"id":"a","text":"t","embedding":[+1]}]}"#,
            #"{"documents":[{"id":"a","text":"t","embedding":[NaN]}]}"#,
            #"{"documents":[{"id":"a","text":"t","embedding":[1e39]}]}"#,           // past Float's range
            #"{"documents":[{"id":"a","text":"t","embedding":[1e-50]}]}"#,          // below its normal range
            #"{"documents":[{"id":"a","text":"t","embedding":["1"]}]}"#,
            #"{"documents":[{"id":"a\ud800","text":"t","embedding":[1]}]}"#,        // lone surrogate
            #"{"documents":[{"id":"a\x","text":"t","embedding":[1]}]}"#,            // bad escape
            "{\"documents\":[{\"id\":\"a\tb\",\"text\":\"t\",\"embedding\":[1]}]}",  // raw control character
            #"{"documents":[{"id":"a","text":"t","embedding":[1],"metadata":"#
                + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}]}",
        ] {
            XCTAssertNil(read(body), "left to JSONDecoder: \(body.prefix(120))")
        }
        let invalidUTF8 = Array(#"{"documents":[{"id":"a"#.utf8) + [0xC3, 0x28] + Array(#"","text":"t","embedding":[1]}]}"#.utf8)
        XCTAssertNil(invalidUTF8.withUnsafeBytes { IngestBodyReader.read($0) }, "invalid UTF-8 is left to the caller's check")
    }

    /// Every float32 reads back exactly from the texts clients write for it (Python's repr of
    /// the widened double, Swift's shortest form, %.9g, exponent forms), and an arbitrary decimal
    /// rounds as the standard library's correctly rounded parser rounds it.
    func testNumbersRoundCorrectlyOrAreLeftAlone() {
        var rng = SplitMix64(seed: 19)
        var refused = 0, total = 0
        for _ in 0..<40_000 {
            let bits = UInt32(truncatingIfNeeded: rng.next())
            let value = Float(bitPattern: bits & 0x807F_FFFF | (UInt32(rng.next() % 60 + 97) << 23))  // 1e-9 … 1e9
            for text in [String(Double(value)), value.description, String(format: "%.9g", value),
                         String(format: "%.17g", Double(value)), String(format: "%.6e", value)] {
                total += 1
                guard let parsed = Array(text.utf8).withUnsafeBytes({ JSONFloat.parse($0) }) else { refused += 1; continue }
                XCTAssertEqual(parsed.bitPattern, Float(text)!.bitPattern, text)
                if text != String(format: "%.6e", value) {
                    XCTAssertEqual(parsed.bitPattern, value.bitPattern, "round trip of \(value) through \(text)")
                }
            }
        }
        XCTAssertLessThan(refused, total / 10_000, "all but a rare midpoint case are read directly")
        for text in ["0", "-0", "1", "-1", "0.5", "12345678901234567890123", "0.000000000000000000000000000123456789",
                     "7.0000005", "16777216", "1e-37", "3.4e38"] {
            let parsed = Array(text.utf8).withUnsafeBytes { JSONFloat.parse($0) }
            XCTAssertEqual(parsed?.bitPattern, Float(text)!.bitPattern, text)
        }
        // At the edges of Float's range the reader may decline (never answer wrongly).
        for text in ["3.4028235e38", "1.17549435e-38", "16777217", "7.00000025"] {
            if let parsed = Array(text.utf8).withUnsafeBytes({ JSONFloat.parse($0) }) {
                XCTAssertEqual(parsed.bitPattern, Float(text)!.bitPattern, text)
            }
        }
    }

    /// Bodies mutated at random bytes: whenever the reader still answers, JSONDecoder agrees.
    func testMutatedBodiesAreReadAsJSONDecoderReadsThemOrNotAtAll() {
        let body = #"{"documents":[{"id":"a1","tenant":"acme","text":"caf\u00e9 x","embedding":[0.125,-2.5e-3,17],"metadata":{"k":[1,true,null]}},{"id":"b","text":"y","embedding_b64":"AACAPwAAAEA="}]}"#
        let alphabet = Array(#"{}[]",:0123456789.-+eE\u"abntrfl "#.utf8)
        var rng = SplitMix64(seed: 7)
        var readCount = 0
        for _ in 0..<4_000 {
            var bytes = Array(body.utf8)
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let at = Int(rng.next() % UInt64(bytes.count))
                let byte = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                switch rng.next() % 3 {
                case 0: bytes[at] = byte
                case 1: bytes.insert(byte, at: at)
                default: bytes.remove(at: at)
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if read(text) != nil { readCount += 1 }
            assertAgrees(text)
        }
        XCTAssertGreaterThan(readCount, 0, "some mutations stay well-formed and are read")
    }
}
