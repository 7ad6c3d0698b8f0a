import CFirebreakSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so that readers see either the old file or the complete new one, never a
/// torn write: write to `path.tmp-<pid>`, fsync it, rename over `path`, fsync the folder.
/// Keeps a running CRC-32C of everything written.
public struct AtomicFileWriter: ~Copyable {
    public let path: String
    public let temporaryPath: String
    private let descriptor: Int32
    public private(set) var bytesWritten = 0
    public private(set) var crc: UInt32 = 0
    private var finished = false

    public init(path: String) throws(DurableFileError) {
        self.path = path
        temporaryPath = "\(path).tmp-\(getpid())"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else {
            throw DurableFileError("cannot create \(temporaryPath): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        if !finished {
            close(descriptor)
            unlink(temporaryPath)
        }
    }

    public mutating func write(_ bytes: UnsafeRawBufferPointer, checksummed: Bool = true) throws(DurableFileError) {
        guard bytes.count > 0 else { return }
        if checksummed { crc = fb_crc32c(crc, bytes.baseAddress, bytes.count) }
        var offset = 0
        while offset < bytes.count {
            let written: Int
            if FaultInjection.fails(.write) {
                errno = EIO
                written = -1
            } else {
                written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            }
            guard written > 0 else {
                if written < 0 && errno == EINTR { continue }
                throw DurableFileError("write to \(temporaryPath) failed: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        bytesWritten += bytes.count
    }

    public mutating func write(_ bytes: [UInt8], checksummed: Bool = true) throws(DurableFileError) {
        // Small writes only (header, padding, footer): copying keeps the error typed.
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { copy.deallocate() }
        copy.copyBytes(from: bytes)
        try write(UnsafeRawBufferPointer(copy), checksummed: checksummed)
    }

    /// Zero bytes up to the next multiple of `alignment`.
    public mutating func pad(to offset: Int) throws(DurableFileError) {
        precondition(offset >= bytesWritten, "padding cannot move backwards")
        try write([UInt8](repeating: 0, count: offset - bytesWritten))
    }

    /// fsync, rename into place, fsync the folder. After this the file is durable.
    public consuming func commit() throws(DurableFileError) {
        finished = true
        defer { close(descriptor) }
        if FaultInjection.fails(.fsync) || FaultInjection.fails(.rename) { errno = EIO }
        guard !FaultInjection.fails(.fsync), fsync(descriptor) == 0 else {
            unlink(temporaryPath)
            throw DurableFileError("fsync of \(temporaryPath) failed: \(String(cString: strerror(errno)))")
        }
        guard !FaultInjection.fails(.rename), rename(temporaryPath, path) == 0 else {
            unlink(temporaryPath)
            throw DurableFileError("rename \(temporaryPath) → \(path) failed: \(String(cString: strerror(errno)))")
        }
        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let folderDescriptor = open(folder.isEmpty ? "/" : folder, O_RDONLY)
        if folderDescriptor >= 0 {
            fsync(folderDescriptor)
            close(folderDescriptor)
        }
    }
}

