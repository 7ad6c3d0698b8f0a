import Foundation

/// One value of an event's payload, as JSON has it: numbers stay numbers, lists stay lists.
/// The timeline hashes the canonical encoding of these values (sorted keys, no whitespace), so
/// a stored payload must decode back to the same values: integers are read as `integer`
/// before `number`, and a `number` is always finite.
public indirect enum PayloadValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case string(String)
    case integer(Int64)
    case number(Double)
    case bool(Bool)
    case array([PayloadValue])
    case object([String: PayloadValue])
    case null

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([PayloadValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: PayloadValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    /// A measurement as the timeline keeps it: rounded to `places` decimals (a z of 3.2147
    /// reads 3.21), an integer when it is one.
    public static func rounded(_ value: Double, places: Int) -> PayloadValue {
        precondition(value.isFinite, "a payload number is finite")
        let scale = pow(10, Double(places))
        return .number((value * scale).rounded() / scale)
    }

    /// JSON has one kind of number: `number(3)` written is `integer(3)` read back, and they
    /// are equal (as the bytes they encode to are).
    public static func == (a: PayloadValue, b: PayloadValue) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)): x == y
        case let (.integer(x), .integer(y)): x == y
        case let (.number(x), .number(y)): x == y
        case let (.integer(x), .number(y)), let (.number(y), .integer(x)): Double(x) == y && y.integral == x
        case let (.bool(x), .bool(y)): x == y
        case let (.array(x), .array(y)): x == y
        case let (.object(x), .object(y)): x == y
        case (.null, .null): true
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .string(let value): hasher.combine(value)
        case .integer(let value): hasher.combine(value)
        case .number(let value): if let integral = value.integral { hasher.combine(integral) } else { hasher.combine(value) }
        case .bool(let value): hasher.combine(value)
        case .array(let value): hasher.combine(value)
        case .object(let value): hasher.combine(value)
        case .null: hasher.combine(0 as UInt8)
        }
    }

    public var string: String? { if case .string(let value) = self { value } else { nil } }
    public var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
    /// A number of either kind (a measurement of 1.0 reads back as `integer(1)`).
    public var double: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .number(let value): value
        default: nil
        }
    }

    /// Whether every number inside is finite (JSON has no NaN or infinity).
    public var isFinite: Bool {
        switch self {
        case .number(let value): value.isFinite
        case .array(let values): values.allSatisfy(\.isFinite)
        case .object(let fields): fields.values.allSatisfy(\.isFinite)
        default: true
        }
    }

    /// The value for a reader: text as it is, numbers as written, lists joined by ", ",
    /// objects as `key: value` pairs in key order.
    public var description: String {
        switch self {
        case .string(let value): value
        case .integer(let value): String(value)
        case .number(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        case .array(let values): values.map(\.description).joined(separator: ", ")
        case .object(let fields): "(" + fields.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ") + ")"
        case .null: "none"
        }
    }
}

extension Double {
    /// The value as an Int64 when it is a whole number in Int64's range.
    fileprivate var integral: Int64? {
        guard rounded() == self, abs(self) < 9.2e18 else { return nil }
        return Int64(self)
    }
}

/// An event's payload: the fields of one JSON object.
public typealias PayloadFields = [String: PayloadValue]

extension PayloadFields {
    /// Legacy (version 1) payloads were flat text; tests and upgrades build them this way.
    public init(text: [String: String]) {
        self = text.mapValues(PayloadValue.string)
    }

    /// The payload's size as the limit counts it: the bytes of its canonical JSON.
    var encodedBytes: Int {
        (try? Timeline.canonicalEncoder.encode(self).count) ?? Int.max
    }
}

extension PayloadValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: PayloadValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, PayloadValue)...) { self = .object(Dictionary(uniqueKeysWithValues: elements)) }
}
