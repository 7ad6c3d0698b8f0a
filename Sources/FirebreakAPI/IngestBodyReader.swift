import Foundation

/// Reads an ingest body (`IngestBody`) straight from its bytes, for the common well-formed
/// case (issue 19): one pass, embeddings parsed as floats in place (`JSONFloat`) or from
/// `embedding_b64`, no `Decoder` container per number.
///
/// It answers only when it is sure: any body it does not fully understand (a syntax error, a
/// missing or mistyped field, a duplicate key, a number it cannot round with certainty, nesting
/// past `depthMax`) gets nil, and the caller decodes the body with `JSONDecoder`, which accepts
/// it or names the problem. So a body is never accepted here that `JSONDecoder` would refuse,
/// nor read differently: the route's errors stay `JSONDecoder`'s.
///
/// Invalid UTF-8 is in doubt too: nil, so `JSONDecoder`'s caller names it.
public enum IngestBodyReader {
    /// Nesting this deep (in `metadata` or an unknown field) is left to `JSONDecoder`.
    static let depthMax = 64

    public static func read(_ bytes: UnsafeRawBufferPointer) -> IngestBody? {
        guard String(validating: bytes, as: UTF8.self) != nil else { return nil }
        var cursor = Cursor(bytes: bytes)
        guard let documents = cursor.readBody(), cursor.atEnd() else { return nil }
        return IngestBody(documents: documents)
    }

    /// One document object (a line of `firebreak ingest`'s JSONL), on the same terms: nil
    /// for anything in doubt; `JSONDecoder` then has its say.
    public static func readDocument(_ bytes: UnsafeRawBufferPointer) -> NewDocumentBody? {
        guard String(validating: bytes, as: UTF8.self) != nil else { return nil }
        var cursor = Cursor(bytes: bytes)
        cursor.skipWhitespace()
        guard let document = cursor.readDocument(), cursor.atEnd() else { return nil }
        return document
    }
}

private struct Cursor {
    let bytes: UnsafeRawBufferPointer
    var at = 0
    /// The length of the last embedding read, to size the next one's storage.
    var lastDimension = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    // MARK: The body's shape

    /// `{"documents": [ … ]}`, other top-level fields skipped.
    mutating func readBody() -> [NewDocumentBody]? {
        var documents: [NewDocumentBody]?
        let complete = readObject { key, cursor in
            guard key == "documents" else { return cursor.skipValue(depth: 1) }
            guard documents == nil, let read = cursor.readDocuments() else { return false }
            documents = read
            return true
        }
        return complete ? documents : nil
    }

    mutating func readDocuments() -> [NewDocumentBody]? {
        var documents: [NewDocumentBody] = []
        let complete = readArray { cursor in
            guard let document = cursor.readDocument() else { return false }
            documents.append(document)
            return true
        }
        return complete ? documents : nil
    }

    /// One document: `id` and `text`, `tenant` and `metadata` optional (null is absent), and
    /// exactly one of `embedding` and `embedding_b64`; other fields skipped.
    mutating func readDocument() -> NewDocumentBody? {
        var id: String?, tenant: String?, text: String?, metadata: JSONValue?
        var embedding: [Float]?, encoding = NewDocumentBody.EmbeddingEncoding.array
        var seen = Set<String>()
        let complete = readObject { key, cursor in
            guard seen.insert(key).inserted else { return false }  // duplicates: JSONDecoder's call
            switch key {
            case "id": id = cursor.readString(); return id != nil
            case "text": text = cursor.readString(); return text != nil
            case "tenant":
                if cursor.readNull() { return true }
                tenant = cursor.readString(); return tenant != nil
            case "embedding":
                if cursor.readNull() { return true }
                guard embedding == nil, let floats = cursor.readFloats() else { return false }
                embedding = floats
                return true
            case "embedding_b64":
                if cursor.readNull() { return true }
                guard embedding == nil, let encoded = cursor.readString(), let floats = EmbeddingBase64.decode(encoded) else {
                    return false
                }
                embedding = floats
                encoding = .base64
                return true
            case "metadata":
                if cursor.readNull() { return true }
                metadata = cursor.readJSONValue(); return metadata != nil
            default:
                return cursor.skipValue(depth: 1)
            }
        }
        guard complete, let id, let text, let embedding else { return nil }
        return NewDocumentBody(id: id, tenant: tenant, text: text, embedding: embedding, metadata: metadata,
                               embeddingEncoding: encoding)
    }

    /// An array of JSON numbers, each a Float `JSONFloat` is sure of.
    mutating func readFloats() -> [Float]? {
        var floats: [Float] = []
        floats.reserveCapacity(lastDimension)
        let complete = readArray { cursor in
            guard let value = cursor.readFloat() else { return false }
            floats.append(value)
            return true
        }
        guard complete else { return nil }
        lastDimension = floats.count
        return floats
    }

    mutating func readFloat() -> Float? {
        let start = at
        while at < bytes.count, Self.isNumberByte(bytes[at]) { at += 1 }
        guard at > start else { return nil }
        return JSONFloat.parse(UnsafeRawBufferPointer(rebasing: bytes[start..<at]))
    }

    /// A value of any kind, as `JSONDecoder` reads `JSONValue` (the slice is handed to it:
    /// metadata is small, and its number semantics stay `JSONValue`'s own).
    mutating func readJSONValue() -> JSONValue? {
        let start = at
        guard skipValue(depth: 1) else { return nil }
        let slice = Data(UnsafeRawBufferPointer(rebasing: bytes[start..<at]))
        return try? JSONDecoder().decode(JSONValue.self, from: slice)
    }

    // MARK: JSON structure

    /// `{ "key": value, … }`, calling `field` with the cursor on each value; false when the
    /// object is malformed or `field` refuses.
    mutating func readObject(_ field: (String, inout Cursor) -> Bool) -> Bool {
        skipWhitespace()
        guard take(UInt8(ascii: "{")) else { return false }
        skipWhitespace()
        if take(UInt8(ascii: "}")) { return true }
        while true {
            skipWhitespace()
            guard let key = readString() else { return false }
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else { return false }
            skipWhitespace()
            guard field(key, &self) else { return false }
            skipWhitespace()
            if take(UInt8(ascii: ",")) { continue }
            return take(UInt8(ascii: "}"))
        }
    }

    /// `[ value, … ]`, calling `element` with the cursor on each value.
    mutating func readArray(_ element: (inout Cursor) -> Bool) -> Bool {
        skipWhitespace()
        guard take(UInt8(ascii: "[")) else { return false }
        skipWhitespace()
        if take(UInt8(ascii: "]")) { return true }
        while true {
            skipWhitespace()
            guard element(&self) else { return false }
            skipWhitespace()
            if take(UInt8(ascii: ",")) { continue }
            return take(UInt8(ascii: "]"))
        }
    }

    /// Steps over one well-formed value of any kind.
    mutating func skipValue(depth: Int) -> Bool {
        guard depth <= IngestBodyReader.depthMax, at < bytes.count else { return false }
        switch bytes[at] {
        case UInt8(ascii: "{"): return readObject { _, cursor in cursor.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["): return readArray { cursor in cursor.skipValue(depth: depth + 1) }
        case UInt8(ascii: "\""): return readString() != nil
        case UInt8(ascii: "t"): return takeWord("true")
        case UInt8(ascii: "f"): return takeWord("false")
        case UInt8(ascii: "n"): return takeWord("null")
        default:
            let start = at
            while at < bytes.count, Self.isNumberByte(bytes[at]) { at += 1 }
            return at > start && JSONFloat.approximate(UnsafeRawBufferPointer(rebasing: bytes[start..<at])) != nil
        }
    }

    mutating func readNull() -> Bool { at < bytes.count && bytes[at] == UInt8(ascii: "n") && takeWord("null") }

    /// A JSON string, its escapes decoded; nil when malformed (a raw control character, a bad
    /// escape, a lone surrogate).
    mutating func readString() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = at
        while at < bytes.count {
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") {
                defer { at += 1 }
                return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") { return readEscapedString(from: start) }
            guard byte >= 0x20 else { return nil }
            at += 1
        }
        return nil
    }

    /// The rest of a string that has escapes, from its first byte at `start`.
    private mutating func readEscapedString(from start: Int) -> String? {
        var decoded = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<at]))
        while at < bytes.count {
            let byte = bytes[at]
            at += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard at < bytes.count else { return nil }
                let escape = bytes[at]
                at += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = readUnicodeEscape() else { return nil }
                    decoded.append(contentsOf: String(Character(scalar)).utf8)
                default: return nil
                }
            default:
                guard byte >= 0x20 else { return nil }
                decoded.append(byte)
            }
        }
        return nil
    }

    /// After `\u`: four hex digits, and for a high surrogate its `\u` low half.
    private mutating func readUnicodeEscape() -> Unicode.Scalar? {
        guard let high = readHex4() else { return nil }
        if (0xDC00...0xDFFF).contains(high) { return nil }
        guard (0xD800...0xDBFF).contains(high) else { return Unicode.Scalar(high) }
        guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")), let low = readHex4(), (0xDC00...0xDFFF).contains(low) else {
            return nil
        }
        return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    }

    private mutating func readHex4() -> UInt32? {
        guard at + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[at]
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(nibble)
            at += 1
        }
        return value
    }

    // MARK: Bytes

    mutating func atEnd() -> Bool {
        skipWhitespace()
        return at == bytes.count
    }

    mutating func skipWhitespace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0A, 0x0D: at += 1
            default: return
            }
        }
    }

    mutating func take(_ byte: UInt8) -> Bool {
        guard at < bytes.count, bytes[at] == byte else { return false }
        at += 1
        return true
    }

    mutating func takeWord(_ word: StaticString) -> Bool {
        let length = word.utf8CodeUnitCount
        guard at + length <= bytes.count else { return false }
        for i in 0..<length where bytes[at + i] != word.utf8Start[i] { return false }
        at += length
        return true
    }

    /// The bytes a JSON number is made of (the grammar itself is `JSONFloat`'s to check).
    @inline(__always)
    static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
             UInt8(ascii: "e"), UInt8(ascii: "E"): return true
        default: return false
        }
    }
}
