import AsyncHTTPClient
import Crypto
import Foundation
import Hex
import NIOCore
import NIOHTTP1
#if canImport(Glibc)
import Glibc
#endif

/// Where a download's bytes go: a file, written as they arrive and hashed on the way, so an
/// object of any size needs one network buffer of memory.
public final class FileSink: @unchecked Sendable {
    let path: String
    private var descriptor: Int32 = -1
    private var hasher = SHA256()
    private(set) var bytes = 0

    /// Creates (truncates) `path`.
    init(path: String) throws(S3Error) {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw S3Error(.io, "cannot create \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    func write(_ buffer: ByteBuffer) throws(S3Error) {
        try buffer.withUnsafeReadableBytes { (raw: UnsafeRawBufferPointer) throws(S3Error) in
            hasher.update(bufferPointer: raw)
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                guard written > 0 else { throw S3Error(.io, "writing \(path) failed: \(String(cString: strerror(errno)))") }
                offset += written
            }
        }
        bytes += buffer.readableBytes
    }

    /// Empties the file for another try of the download.
    func reset() throws(S3Error) {
        guard ftruncate(descriptor, 0) == 0, lseek(descriptor, 0, SEEK_SET) == 0 else {
            throw S3Error(.io, "cannot truncate \(path): \(String(cString: strerror(errno)))")
        }
        hasher = SHA256()
        bytes = 0
    }

    /// Closes the file (flushed to disk first when `durable`); returns the size and hex
    /// SHA-256 of what was written.
    func finish(durable: Bool) throws(S3Error) -> (bytes: Int, sha256: String) {
        guard !durable || fsync(descriptor) == 0 else {
            throw S3Error(.io, "fsync of \(path) failed: \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        descriptor = -1
        return (bytes, hasher.finalize().hexEncoded)
    }
}

/// Collects an answer: the body of a 2xx goes to the `FileSink` when there is one, anything
/// else into memory up to `bytesMax`. Called by one event loop, one callback at a time.
final class ResponseSink: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = S3Client.Response

    private let file: FileSink?
    private let bytesMax: Int
    private var status = 0
    private var headers = HTTPHeaders()
    private var body: [UInt8] = []
    private var failure: S3Error?

    init(file: FileSink?, bytesMax: Int) {
        self.file = file
        self.bytesMax = bytesMax
    }

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        status = Int(head.status.code)
        headers = head.headers
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        guard failure == nil else { return task.eventLoop.makeSucceededVoidFuture() }
        if let file, (200..<300).contains(status) {
            do { try file.write(buffer) } catch { failure = error }
        } else if body.count + buffer.readableBytes <= bytesMax {
            body.append(contentsOf: buffer.readableBytesView)
        } else {
            failure = S3Error(.unexpectedResponse, "the answer is larger than \(bytesMax) bytes")
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
        if let failure { throw failure }
        return Response(status: status, headers: headers, body: body)
    }
}
