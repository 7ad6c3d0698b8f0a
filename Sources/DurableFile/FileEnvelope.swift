/// The frame every Firebreak index file has: it starts with an 8-byte magic and a u32
/// format version, and ends with a 16-byte footer holding the CRC-32C of every byte before
/// it (u32), the version again (u32) and an 8-byte end magic, little-endian. A file cut
/// short loses its footer, so "footer missing" means truncated or half-written.
public struct FileEnvelope: Sendable {
    public static let footerBytes = 16

    public let magic: [UInt8]
    public let footerMagic: [UInt8]
    public let version: UInt32
    /// Bytes of the format's header (at least the 12 of magic and version).
    public let headerBytes: Int
    /// What the format is called in messages ("Firebreak HNSW file").
    public let name: String

    public init(magic: [UInt8], footerMagic: [UInt8], version: UInt32, headerBytes: Int, name: String) {
        self.magic = magic
        self.footerMagic = footerMagic
        precondition(self.magic.count == 8 && self.footerMagic.count == 8 && headerBytes >= 12, "a valid envelope")
        self.version = version
        self.headerBytes = headerBytes
        self.name = name
    }

    /// Writes the footer for what `writer` has written so far (the footer is not checksummed).
    public func appendFooter(to writer: inout AtomicFileWriter) throws(DurableFileError) {
        var footer: [UInt8] = []
        withUnsafeBytes(of: writer.crc.littleEndian) { footer += $0 }
        withUnsafeBytes(of: version.littleEndian) { footer += $0 }
        try writer.write(footer + footerMagic, checksummed: false)
    }

    public enum Problem: Equatable, Sendable {
        case tooShort(bytes: Int, minimum: Int)
        case badMagic
        case unsupportedVersion(found: UInt32)
        case footerMissing
        case footerVersionMismatch(found: UInt32)
        case checksumMismatch(stored: UInt32, computed: UInt32)

        /// What the caller's error code should say: the three refusals every format has.
        public enum Kind: Sendable { case truncated, corrupted, unsupportedVersion }

        public var kind: Kind {
            switch self {
            case .tooShort, .footerMissing: return .truncated
            case .unsupportedVersion: return .unsupportedVersion
            case .badMagic, .footerVersionMismatch, .checksumMismatch: return .corrupted
            }
        }
    }

    /// The first thing wrong with `file`'s frame, in the order size, magic, version, footer,
    /// checksum; nil when the frame verifies (the body is the caller's to check).
    public func problem(in file: UnsafeRawBufferPointer) -> Problem? {
        let minimum = headerBytes + Self.footerBytes
        guard file.count >= minimum else { return .tooShort(bytes: file.count, minimum: minimum) }
        guard file[..<8].elementsEqual(magic) else { return .badMagic }
        let found = UInt32(littleEndian: file.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard found == version else { return .unsupportedVersion(found: found) }
        let footer = file.count - Self.footerBytes
        guard file[(footer + 8)...].elementsEqual(footerMagic) else { return .footerMissing }
        let footerVersion = UInt32(littleEndian: file.loadUnaligned(fromByteOffset: footer + 4, as: UInt32.self))
        guard footerVersion == version else { return .footerVersionMismatch(found: footerVersion) }
        let stored = UInt32(littleEndian: file.loadUnaligned(fromByteOffset: footer, as: UInt32.self))
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: file[..<footer]))
        return stored == computed ? nil : .checksumMismatch(stored: stored, computed: computed)
    }

    /// A sentence naming the problem, for the caller's typed error.
    public func explain(_ problem: Problem) -> String {
        switch problem {
        case .tooShort(let bytes, let minimum): return "\(bytes) bytes, shorter than the smallest \(name) (\(minimum))"
        case .badMagic: return "not a \(name) (bad magic)"
        case .unsupportedVersion(let found): return "format version \(found); this build reads version \(version)"
        case .footerMissing: return "footer missing (file truncated or not fully written)"
        case .footerVersionMismatch(let found): return "footer version \(found) disagrees with header version \(version)"
        case .checksumMismatch(let stored, let computed): return "checksum mismatch (stored \(stored), computed \(computed))"
        }
    }
}
