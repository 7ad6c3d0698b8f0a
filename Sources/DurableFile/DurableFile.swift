// DurableFile — how every index file reaches the disk and comes back.
//
// Owns: atomic publication of one file (write a temporary sibling, fsync, rename over the
// target, fsync the folder), a running CRC-32C of what was written, read-only memory maps,
// and the test-only failpoints at each of those seams.
//
// Never: knows what the bytes mean (formats belong to HNSW, Lexical, Snapshots); leaves a
// temporary file behind after a failed write; lets a reader observe a torn file.
//
// Invariants:
// - A path holds either its previous complete content or the new complete content.
// - `AtomicFileWriter.crc` is the CRC-32C of every byte written with `checksummed: true`.
import CFirebreakSupport

/// The one error type of DurableFile: an operating-system failure on a named path.
public struct DurableFileError: Error, Equatable, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "io_error: \(message)" }
}

/// CRC-32C (Castagnoli), hardware-accelerated where SSE4.2 is present.
public enum CRC32C {
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        fb_crc32c(crc, bytes.baseAddress, bytes.count)
    }
}
