import FirebreakAPI
import Foundation
import HubScan
import VectorMath
import XCTest

/// The contract's types against `docs/openapi.json`, so that neither can drift: every schema
/// of `components.schemas` is one `FirebreakAPI` type, whose full example encodes exactly the
/// schema's properties (recursively, with their JSON types) and whose minimal example exactly
/// its required ones; every route's request and response schemas name the types the table
/// below gives it. Adding, renaming or dropping a field on one side only fails here.
final class OpenAPIContractTests: XCTestCase {
    /// The document, read from the repository (the service ships the same file).
    static let document: JSONValue = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi.json")
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url))
        } catch {
            preconditionFailure("docs/openapi.json does not decode: \(error)")
        }
    }()

    static var schemas: [String: JSONValue] { document["components"]?["schemas"]?.objectValue ?? [:] }

    func testEverySchemaIsATypeWithTheSameFields() throws {
        let cases = ContractExamples.cases
        XCTAssertEqual(Set(cases.map(\.schema)), Set(Self.schemas.keys), "each schema has one type, and each type a schema")
        for example in cases {
            let schema = try XCTUnwrap(Self.schemas[example.schema], example.schema)
            var problems: [String] = []
            SchemaCheck.compare(example.full, with: schema, at: example.schema, schemas: Self.schemas, problems: &problems)
            XCTAssertEqual(problems, [], "\(example.schema) (\(example.type)), full example")
            let present = Set((example.minimal.objectValue ?? [:]).filter { $0.value != .null }.keys)
            // With a oneOf, the required fields plus the alternative the minimal value chose.
            let chosen = SchemaCheck.exclusiveGroups(schema).first { !Set($0).isDisjoint(with: present) } ?? []
            let required = Set(schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? []).union(chosen)
            XCTAssertEqual(present, required, "\(example.schema) (\(example.type)): the fields a minimal value sends are the required ones")
        }
    }

    func testEveryRouteNamesTheTypesItSendsAndAnswers() throws {
        let names = Dictionary(ContractExamples.cases.map { ($0.type, $0.schema) }, uniquingKeysWith: { first, _ in first })
        var covered = Set<String>()
        for route in ContractExamples.routes {
            let operation = try XCTUnwrap(Self.document["paths"]?[route.path]?[route.method.lowercased()], "\(route.method) \(route.path)")
            covered.insert("\(route.method) \(route.path)")
            let request = operation["requestBody"]?["content"]?["application/json"]?["schema"]?["$ref"]?.stringValue
            XCTAssertEqual(request.map(Self.schemaName), route.request.map { names[$0] ?? "no schema for \($0)" },
                           "\(route.method) \(route.path): request body")
            let responses = operation["responses"]?.objectValue ?? [:]
            let success = responses.filter { $0.key.hasPrefix("2") }
            XCTAssertEqual(success.count, 1, "\(route.method) \(route.path): one success status")
            let answer = success.first?.value["content"]?["application/json"]?["schema"]?["$ref"]?.stringValue
            XCTAssertEqual(answer.map(Self.schemaName), route.response.map { names[$0] ?? "no schema for \($0)" },
                           "\(route.method) \(route.path): response body")
            for (status, response) in responses where !status.hasPrefix("2") {
                if let same = response["content"]?["application/json"]?["schema"]?["$ref"]?.stringValue {
                    XCTAssertEqual(same, answer, "\(route.method) \(route.path) \(status): the success body, or a problem")
                    continue
                }
                let problem = response["content"]?["application/problem+json"]?["schema"]?["$ref"]?.stringValue
                XCTAssertEqual(problem.map(Self.schemaName), "Problem", "\(route.method) \(route.path) \(status): a problem body")
            }
        }
        let documented = (Self.document["paths"]?.objectValue ?? [:]).flatMap { path, operations in
            (operations.objectValue ?? [:]).keys.map { "\($0.uppercased()) \(path)" }
        }
        XCTAssertEqual(Set(documented).subtracting(covered), [], "every documented operation is in the route table")
    }

    /// The typed reply of a mutating route carries its change-log position when it is stamped.
    func testSequencedReadsTheStampAndTheBody() throws {
        let stamped = Data(#"{"seq":42,"id":"a","deleted":true}"#.utf8)
        let reply = try JSONDecoder.api.decode(Sequenced<DeletedBody>.self, from: stamped)
        XCTAssertEqual(reply.seq, 42)
        XCTAssertEqual(reply.body.id, "a")
        let unstamped = try JSONDecoder.api.decode(Sequenced<DeletedBody>.self, from: Data(#"{"id":"b","deleted":true}"#.utf8))
        XCTAssertNil(unstamped.seq)
    }

    /// A stored report written before the keys were declared (a snake-case key strategy) still
    /// decodes, and the labelled report refuses ids that do not match its flagged rows.
    func testLabelledScanReportKeepsItsStoredShape() throws {
        let report = ContractExamples.report
        let labelled = LabelledScanReport(report: report, documentIDs: report.flagged.map { "doc-\($0.row)" },
                                          documentTenants: report.flagged.map { _ in "acme" }, snapshotID: "snap-1")
        let strategy = JSONEncoder()
        strategy.keyEncodingStrategy = .convertToSnakeCase
        let old = try strategy.encode(report)
        XCTAssertEqual(try JSONDecoder().decode(ScanReport.self, from: old), report)
        XCTAssertEqual(try JSONDecoder().decode(LabelledScanReport.self, from: try JSONEncoder.api.encode(labelled)), labelled)
        XCTAssertFalse(labelled.idsAtThreshold.isEmpty, "the example flags rows at its threshold")

        var broken = try XCTUnwrap(try JSONDecoder().decode(JSONValue.self, from: try JSONEncoder.api.encode(labelled)).objectValue)
        broken["document_ids"] = .array([])
        XCTAssertThrowsError(try JSONDecoder().decode(LabelledScanReport.self, from: try JSONEncoder.api.encode(JSONValue.object(broken))))
    }

    static func schemaName(_ reference: String) -> String { String(reference.split(separator: "/").last ?? "") }
}

/// Compares an encoded value with a JSON Schema of the document: object properties, array
/// items, `$ref`s and the JSON type of every value.
enum SchemaCheck {
    /// Fields a mutating response gains when the service stamps it; no type declares them.
    static let stampFields: Set<String> = ["seq"]

    static func compare(_ value: JSONValue, with schema: JSONValue, at path: String, schemas: [String: JSONValue],
                        problems: inout [String]) {
        if let reference = schema["$ref"]?.stringValue {
            let name = OpenAPIContractTests.schemaName(reference)
            guard let target = schemas[name] else { return problems.append("\(path): $ref to unknown schema \(name)") }
            return compare(value, with: target, at: path, schemas: schemas, problems: &problems)
        }
        guard typeMatches(value, schema) else {
            return problems.append("\(path): \(value.kind) where the schema says \(schema["type"].map { "\($0)" } ?? schema["enum"].map { "one of \($0)" } ?? "?")")
        }
        switch value {
        case .object(let fields):
            guard let properties = schema["properties"]?.objectValue else { return }  // a free-form object (metadata, a report)
            // Fields of a `oneOf` required group another group's field stands in for are not expected.
            let alternatives = exclusiveGroups(schema)
            let sent = alternatives.filter { !Set($0).isDisjoint(with: fields.keys) }
            if sent.count > 1 { problems.append("\(path): sends fields of more than one oneOf alternative") }
            let unsent = sent.isEmpty ? [] : Set(alternatives.filter { !sent.contains($0) }.joined())
            let documented = Set(properties.keys).subtracting(stampFields).subtracting(unsent)
            for missing in documented.subtracting(fields.keys).sorted() { problems.append("\(path).\(missing): documented, not sent") }
            for extra in Set(fields.keys).subtracting(properties.keys).sorted() { problems.append("\(path).\(extra): sent, not documented") }
            for (key, field) in fields {
                if let property = properties[key] { compare(field, with: property, at: "\(path).\(key)", schemas: schemas, problems: &problems) }
            }
        case .array(let items):
            if let first = items.first, let itemSchema = schema["items"] {
                compare(first, with: itemSchema, at: "\(path)[0]", schemas: schemas, problems: &problems)
            }
        default:
            break
        }
    }

    /// The required-field groups of a schema's `oneOf` (exactly one of them is sent).
    static func exclusiveGroups(_ schema: JSONValue) -> [[String]] {
        (schema["oneOf"]?.arrayValue ?? []).map { $0["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    }

    static func typeMatches(_ value: JSONValue, _ schema: JSONValue) -> Bool {
        if let allowed = schema["enum"]?.arrayValue { return allowed.contains(value) }
        let types: [String]
        switch schema["type"] {
        case .string(let name): types = [name]
        case .array(let names): types = names.compactMap(\.stringValue)
        default: return true
        }
        return types.contains { name in
            switch (name, value) {
            case ("null", .null), ("boolean", .bool), ("string", .string), ("object", .object), ("array", .array), ("number", .number):
                return true
            case ("integer", .number(let number)): return number == number.rounded()
            default: return false
            }
        }
    }
}

extension JSONValue {
    subscript(key: String) -> JSONValue? { objectValue?[key] }
    var objectValue: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }
    var arrayValue: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    var stringValue: String? { if case .string(let value) = self { value } else { nil } }

    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
