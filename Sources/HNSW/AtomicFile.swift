import CFirebreakSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Test-only failpoints at the seams of publishing a file. `nil` (the default) injects nothing;
/// a test sets one, saves, and checks that nothing half-written is left behind.
enum FileFault: Sendable, Equatable {
    case write, fsync, rename
}

enum FaultInjection {
    nonisolated(unsafe) static var failing: FileFault?

    static func fails(_ point: FileFault) -> Bool { failing == point }
}

/// Writes a file so that readers see either the old file or the complete new one, never a
/// torn write: write to `path.tmp-<pid>`, fsync it, rename over `path`, fsync the folder.
/// Keeps a running CRC-32C of everything written.
struct AtomicFileWriter: ~Copyable {
    let path: String
    let temporaryPath: String
    private let descriptor: Int32
    private(set) var bytesWritten = 0
    private(set) var crc: UInt32 = 0
    private var finished = false

    init(path: String) throws(HNSWError) {
        self.path = path
        temporaryPath = "\(path).tmp-\(getpid())"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else {
            throw HNSWError(.io, "cannot create \(temporaryPath): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        if !finished {
            close(descriptor)
            unlink(temporaryPath)
        }
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer, checksummed: Bool = true) throws(HNSWError) {
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
                throw HNSWError(.io, "write to \(temporaryPath) failed: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        bytesWritten += bytes.count
    }

    mutating func write(_ bytes: [UInt8], checksummed: Bool = true) throws(HNSWError) {
        // Small writes only (header, padding, footer): copying keeps the error typed.
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { copy.deallocate() }
        copy.copyBytes(from: bytes)
        try write(UnsafeRawBufferPointer(copy), checksummed: checksummed)
    }

    /// Zero bytes up to the next multiple of `alignment`.
    mutating func pad(to offset: Int) throws(HNSWError) {
        precondition(offset >= bytesWritten, "padding cannot move backwards")
        try write([UInt8](repeating: 0, count: offset - bytesWritten))
    }

    /// fsync, rename into place, fsync the folder. After this the file is durable.
    consuming func commit() throws(HNSWError) {
        finished = true
        defer { close(descriptor) }
        if FaultInjection.fails(.fsync) || FaultInjection.fails(.rename) { errno = EIO }
        guard !FaultInjection.fails(.fsync), fsync(descriptor) == 0 else {
            unlink(temporaryPath)
            throw HNSWError(.io, "fsync of \(temporaryPath) failed: \(String(cString: strerror(errno)))")
        }
        guard !FaultInjection.fails(.rename), rename(temporaryPath, path) == 0 else {
            unlink(temporaryPath)
            throw HNSWError(.io, "rename \(temporaryPath) → \(path) failed: \(String(cString: strerror(errno)))")
        }
        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let folderDescriptor = open(folder.isEmpty ? "/" : folder, O_RDONLY)
        if folderDescriptor >= 0 {
            fsync(folderDescriptor)
            close(folderDescriptor)
        }
    }
}

/// A read-only memory map of a whole file, unmapped on deinit.
final class MappedFile {
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws(HNSWError) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw HNSWError(.io, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw HNSWError(.io, "cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw HNSWError(.io, "cannot map \(path): \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
