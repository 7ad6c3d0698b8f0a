import ArgumentParser
import Foundation

/// Reads a JSON Lines file: one JSON object per non-empty line. A malformed line is an
/// error naming the file and line number, never a skipped record.
enum JSONLines {
    static let fileBytesMax = 4 << 30

    static func read<T: Decodable>(_ path: String, as type: T.Type) throws -> [T] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path)")
        }
        guard data.count <= fileBytesMax else { throw ValidationError("\(path) is larger than \(fileBytesMax) bytes") }
        let decoder = JSONDecoder()
        var values: [T] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) else { continue }
            do {
                values.append(try decoder.decode(T.self, from: line))
            } catch {
                throw ValidationError("\(path):\(lineNumber): not a valid record (\(describe(error)))")
            }
        }
        return values
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context): return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted: return "malformed JSON or invalid UTF-8"
        default: return "\(error)"
        }
    }
}

/// A document id that may be written as a JSON string or integer.
struct FlexibleID: Decodable, Hashable {
    let value: String

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) { value = text } else { value = String(try container.decode(Int64.self)) }
    }
}

struct CorpusLine: Decodable {
    let id: String
    let title: String?
    let text: String

    enum CodingKeys: String, CodingKey { case id, title, text }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(FlexibleID.self, forKey: .id).value
        title = try container.decodeIfPresent(String.self, forKey: .title)
        text = try container.decode(String.self, forKey: .text)
    }
}

struct QueryLine: Decodable {
    let qid: String
    let query: String
    let relevant: [String]

    enum CodingKeys: String, CodingKey { case qid, query, relevant }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        qid = try container.decode(FlexibleID.self, forKey: .qid).value
        query = try container.decode(String.self, forKey: .query)
        relevant = try container.decodeIfPresent([FlexibleID].self, forKey: .relevant)?.map(\.value) ?? []
    }
}
