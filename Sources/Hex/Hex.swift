// Hex — lower-case hexadecimal text of bytes: digests, token secrets, bytea literals.
//
// Owns: the one encoder every module uses (it was written eleven times).
// Never: depends on anything; decodes (nothing reads hex back yet).
// Invariant: two characters per byte, `0-9a-f`, most significant nibble first.

private let digits = Array("0123456789abcdef".utf8)

extension Sequence where Element == UInt8 {
    /// `[0x0f, 0xa0]` → `"0fa0"`.
    public var hexEncoded: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
