import DurableFile

/// The on-disk format of a `LexicalIndex`, version 1. All integers little-endian.
///
/// ```
/// header (64 bytes)
///   0  magic "FBLEXIDX"            8  format version (u32)      12 analyzer version (u32)
///   16 NFKC folding (u8)  17 token pattern (u8)  18 stop words (u8)  19 stems (u8)
///   20 k1 (f32)  24 b (f32)  28 reserved (u32 = 0)
///   32 documents (u64)  40 terms (u64)  48 postings (u64)  56 reserved (u64 = 0)
/// labels        documents × u64
/// lengths       documents × u32            (terms after stop words)
/// deleted       ⌈documents / 64⌉ × u64     (bit d set: document d is deleted)
/// terms         per term, in id order: u32 byte length, UTF-8 bytes,
///               u32 postings, u32 stream bytes, stream
///               (per posting: varint delta<<1 | (tf == 1), then varint tf if tf ≠ 1;
///                the first delta is from 0)
/// footer (16 bytes)
///   CRC-32C of every byte before the footer (u32), format version (u32), "FBLEXEND"
/// ```
///
/// Loading checks, in order: size, magic, version, footer (a missing footer means a
/// truncated file), CRC, every length against the bytes left, the analyzer version, then
/// rebuilds the in-memory index and runs the full integrity check. Any failure is a typed
/// error naming the file and the problem; nothing from a refused file is served.
enum LexicalFileFormat {
    static let version: UInt32 = 1
    static let headerBytes = 64
    static let envelope = FileEnvelope(magic: Array("FBLEXIDX".utf8), footerMagic: Array("FBLEXEND".utf8),
                                       version: version, headerBytes: headerBytes, name: "Firebreak lexical index")
    static var magic: [UInt8] { envelope.magic }
    static let footerBytes = FileEnvelope.footerBytes
    /// A term longer than this in a file is corruption (the analyzer never makes one).
    static let termBytesMax = 4 * Analyzer.tokenScalarsMax
}

/// Appends little-endian values to a byte array.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ value: Float) { append(value.bitPattern) }
    mutating func append(bytes more: some Sequence<UInt8>) { bytes.append(contentsOf: more) }
}

/// Reads little-endian values from untrusted bytes; every read is bounds-checked and a
/// short read is `file_corrupted`, never a crash.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    private(set) var offset: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, from offset: Int, to end: Int, path: String) {
        self.bytes = bytes
        self.offset = offset
        self.end = end
        self.path = path
    }

    func corrupted(_ what: String) -> LexicalError {
        LexicalError(.fileCorrupted, "\(path): \(what) at byte \(offset)")
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws(LexicalError) -> T {
        guard end - offset >= MemoryLayout<T>.size else { throw corrupted("\(T.self) runs past the end") }
        defer { offset += MemoryLayout<T>.size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    mutating func readBytes(_ count: Int) throws(LexicalError) -> UnsafeRawBufferPointer {
        guard count >= 0, end - offset >= count else { throw corrupted("\(count) bytes run past the end") }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }

    mutating func readVarInt() throws(LexicalError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try read(UInt8.self)
            guard shift < 64 else { throw corrupted("varint longer than 64 bits") }
            value |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }
}
