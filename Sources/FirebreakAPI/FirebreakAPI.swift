// FirebreakAPI: the JSON contract of every route, as Codable values.
//
// Owns: the request and response bodies of `docs/openapi.json`, the problem-details body
// every error leaves the service in, the one JSON encoding both sides use, and the direct
// reader of the ingest body (`IngestBodyReader`: it answers only where `JSONDecoder` would
// answer the same). `Server`
// encodes these types; the CLI, the drill, the benchmarks and the tests decode them.
//
// Never: depends on Server, Engine or Store (the contract is what a client can link; only the
// pure HubScan and Incidents modules, for the scan report and the event kinds), does I/O
// beyond `APIClient`, or uses a key-encoding strategy (field names are the wire's snake_case, declared
// per type, so document metadata keys pass through untouched).
//
// Invariants: every type here is the schema of the same name in `docs/openapi.json`
// (`OpenAPIContractTests` fails when a field is added, renamed or dropped on one side only);
// changing a field is a change to one type.
import Foundation

extension JSONEncoder {
    /// The service's JSON: snake_case keys as declared, sorted for stable output.
    public static var api: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension JSONDecoder {
    /// The decoder every client of the contract uses (no key strategy, like `JSONEncoder.api`).
    public static var api: JSONDecoder { JSONDecoder() }
}

/// RFC 9457 problem details: the only shape an error leaves the service in.
public struct ProblemDetails: Codable, Sendable, Equatable {
    /// `https://firebreak.dev/problems/<code with dashes>`.
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    /// A stable machine-readable code (`dimension_mismatch`), what clients switch on.
    public var code: String

    public static let typeBase = "https://firebreak.dev/problems/"

    /// The code as this build names it; nil for a code from a newer service.
    public var problemCode: ProblemCode? { ProblemCode(rawValue: code) }

    public init(status: Int, title: String, code: String, detail: String) {
        self.type = Self.typeBase + code.replacingOccurrences(of: "_", with: "-")
        self.title = title
        self.status = status
        self.detail = detail
        self.code = code
    }
}

/// A mutating route's reply: the body, with the change-log position of its effect (`seq`)
/// when it wrote one. The service writes `seq` as the body's first field.
public struct Sequenced<Body: Decodable & Sendable>: Decodable, Sendable {
    public var seq: Int64?
    public var body: Body

    enum CodingKeys: String, CodingKey { case seq }

    public init(from decoder: any Decoder) throws {
        seq = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Int64.self, forKey: .seq)
        body = try Body(from: decoder)
    }
}

extension DecodingError {
    /// What is wrong, naming the field by its path (`documents[3].embedding`): the detail of
    /// a `malformed_json` problem, and of a client's "the reply does not match" error.
    public var fieldDescription: String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.reduce("") { path, key in
                if let index = key.intValue { return path + "[\(index)]" }
                return path.isEmpty ? key.stringValue : path + "." + key.stringValue
            }
        }
        switch self {
        case .keyNotFound(let key, let context):
            return "missing field \"\(path(context.codingPath + [key]))\""
        case .typeMismatch(let type, let context):
            return "field \"\(path(context.codingPath))\" has the wrong type; expected \(Self.name(of: type))"
        case .valueNotFound(let type, let context):
            return "field \"\(path(context.codingPath))\" is null; expected \(Self.name(of: type))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the body is not valid JSON"
                : "field \"\(path(context.codingPath))\": \(context.debugDescription)"
        @unknown default:
            return "the body does not match the expected shape"
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Float.Type, is Double.Type: return "a number"
        case is Int.Type, is Int64.Type, is UInt64.Type: return "an integer"
        case is Bool.Type: return "true or false"
        default: return "\(type)".hasPrefix("Array") ? "an array" : "an object"
        }
    }
}
