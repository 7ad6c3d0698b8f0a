import Foundation
import Hex

/// A statement parameter, sent to PostgreSQL in text format. The statement's `$n::type`
/// casts say how the server reads it; the value never becomes part of the SQL text.
public enum SQLValue: Sendable, Equatable {
    case null
    case text(String)
    case integer(Int64)
    case boolean(Bool)
    case real(Double)
    case bytes([UInt8])
    /// A timestamp, sent as ISO 8601 in UTC with microseconds.
    case timestamp(Date)

    /// The text-format wire representation (nil for SQL NULL).
    var wireText: String? {
        switch self {
        case .null: return nil
        case .text(let value): return value
        case .integer(let value): return String(value)
        case .boolean(let value): return value ? "t" : "f"
        case .real(let value): return value.isFinite ? "\(value)" : (value.isNaN ? "NaN" : (value > 0 ? "Infinity" : "-Infinity"))
        case .bytes(let value): return "\\x" + value.hexEncoded
        case .timestamp(let value): return SQLValue.formatTimestamp(value)
        }
    }

    static func formatTimestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
}

/// One result row, copied out of libpq's result so it outlives it. Columns are looked up by
/// name; a missing column or an undecodable value is a `decoding_failed` error.
public struct Row: Sendable {
    let columns: [String: Int]
    let values: [String?]

    public func isNull(_ column: String) throws(StoreError) -> Bool {
        try raw(column) == nil
    }

    public func string(_ column: String) throws(StoreError) -> String {
        guard let value = try raw(column) else { throw nullError(column) }
        return value
    }

    public func optionalString(_ column: String) throws(StoreError) -> String? {
        try raw(column)
    }

    public func integer(_ column: String) throws(StoreError) -> Int64 {
        let text = try string(column)
        guard let value = Int64(text) else { throw StoreError(.decodingFailed, "column \(column): \"\(text)\" is not an integer") }
        return value
    }

    public func boolean(_ column: String) throws(StoreError) -> Bool {
        switch try string(column) {
        case "t": return true
        case "f": return false
        case let other: throw StoreError(.decodingFailed, "column \(column): \"\(other)\" is not a boolean")
        }
    }

    public func real(_ column: String) throws(StoreError) -> Double {
        let text = try string(column)
        guard let value = Double(text) else { throw StoreError(.decodingFailed, "column \(column): \"\(text)\" is not a number") }
        return value
    }

    /// A `bytea` column in PostgreSQL's hex output format (`\x…`).
    public func bytes(_ column: String) throws(StoreError) -> [UInt8] {
        var text = try string(column)
        guard let bytes = text.withUTF8({ Self.hexBytes($0) }) else {
            throw StoreError(.decodingFailed, "column \(column): not a hex bytea value")
        }
        return bytes
    }

    /// The bytes of PostgreSQL's hex bytea output (`\x0a1b…`, lower case); nil if it is not that.
    static func hexBytes(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard text.count >= 2, text.count % 2 == 0, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x") else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c &- UInt8(ascii: "a") &+ 10
            default: return nil
            }
        }
        var bytes = [UInt8](repeating: 0, count: (text.count - 2) / 2)
        for i in 0..<bytes.count {
            guard let high = nibble(text[2 + 2 * i]), let low = nibble(text[3 + 2 * i]) else { return nil }
            bytes[i] = high << 4 | low
        }
        return bytes
    }

    private func raw(_ column: String) throws(StoreError) -> String? {
        guard let index = columns[column] else {
            throw StoreError(.decodingFailed, "no column \"\(column)\" in the result (have \(columns.keys.sorted()))")
        }
        return values[index]
    }

    private func nullError(_ column: String) -> StoreError {
        StoreError(.decodingFailed, "column \(column) is NULL")
    }
}
