import Foundation

/// Builds the body of a `COPY … FROM STDIN (FORMAT binary)`: PostgreSQL's binary copy
/// format (the 11-byte signature, flags, then one tuple per row, each field a big-endian
/// length and its binary value, then the -1 trailer).
///
/// Owns only the encoding; the connection sends it (`Connection.copyIn`). It never formats
/// a number as text: that is the point (an embedding of 384 floats is 1.5 KiB here, about
/// 4 KiB as text, and formatting it cost more than the rest of the insert).
///
/// Invariant: every tuple has `fieldCount` fields, in the column order of the COPY statement.
struct BinaryCopyBuffer {
    /// PostgreSQL's type id for `real` (float4), which array values must name.
    static let float4TypeID: Int32 = 700
    /// The jsonb binary format's version byte (the only one PostgreSQL defines).
    static let jsonbVersion: UInt8 = 1

    private(set) var bytes: [UInt8] = []
    private let fieldCount: Int
    private var fieldsInTuple = 0

    init(fieldCount: Int, reservingBytes: Int = 0) {
        precondition(fieldCount > 0 && fieldCount <= Int(Int16.max))
        self.fieldCount = fieldCount
        bytes.reserveCapacity(reservingBytes + 32)
        bytes += Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]
        append(Int32(0))  // flags: no OIDs
        append(Int32(0))  // header extension length
    }

    mutating func beginTuple() {
        precondition(fieldsInTuple == 0 || fieldsInTuple == fieldCount, "the previous tuple is incomplete")
        fieldsInTuple = 0
        append(Int16(fieldCount))
    }

    mutating func text(_ value: String) { field(Array(value.utf8)) }

    mutating func optionalText(_ value: String?) {
        if let value { text(value) } else { null() }
    }

    mutating func bigint(_ value: Int64) {
        startField(byteCount: 8)
        append(UInt64(bitPattern: value))
    }

    mutating func bytea(_ value: [UInt8]) { field(value) }

    /// A `jsonb` value: the version byte, then the JSON text (which the server parses and checks).
    mutating func jsonb(_ json: String) {
        let utf8 = json.utf8
        startField(byteCount: 1 + utf8.count)
        bytes.append(Self.jsonbVersion)
        bytes += utf8
    }

    /// A one-dimensional `real[]` without nulls, lower bound 1.
    mutating func realArray(_ values: [Float]) {
        startField(byteCount: 20 + 8 * values.count)
        append(Int32(1))                 // dimensions
        append(Int32(0))                 // has nulls
        append(Self.float4TypeID)
        append(Int32(values.count))      // length of the dimension
        append(Int32(1))                 // lower bound
        // Each element: its length (4) and its big-endian bits, written in place.
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: 8 * values.count))
        bytes.withUnsafeMutableBytes { raw in
            for (i, value) in values.enumerated() {
                raw.storeBytes(of: Int32(4).bigEndian, toByteOffset: start + 8 * i, as: Int32.self)
                raw.storeBytes(of: value.bitPattern.bigEndian, toByteOffset: start + 8 * i + 4, as: UInt32.self)
            }
        }
    }

    mutating func null() {
        countField()
        append(Int32(-1))
    }

    /// The finished body, with the trailer.
    mutating func finish() -> [UInt8] {
        precondition(fieldsInTuple == 0 || fieldsInTuple == fieldCount, "the last tuple is incomplete")
        append(Int16(-1))
        return bytes
    }

    private mutating func field(_ value: [UInt8]) {
        startField(byteCount: value.count)
        bytes += value
    }

    private mutating func startField(byteCount: Int) {
        precondition(byteCount <= Int(Int32.max))
        countField()
        append(Int32(byteCount))
    }

    private mutating func countField() {
        fieldsInTuple += 1
        precondition(fieldsInTuple <= fieldCount, "a tuple has more fields than the COPY names")
    }

    private mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }
}
