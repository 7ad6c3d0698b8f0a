import Crypto
import Foundation
import Hex
import NIOHTTP1

/// An object as a listing names it.
public struct S3Object: Sendable, Equatable {
    public let key: String
    public let bytes: Int
    /// ISO 8601, as S3 wrote it.
    public let lastModified: String

    /// `lastModified` as a date (nil when S3 wrote something else).
    public var modified: Date? { S3Dates.parse(lastModified) }
}

/// S3's timestamps: `2026-12-01T16:41:52.000Z`, with or without the fraction.
public enum S3Dates {
    public static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}

extension S3Client {
    /// Stores `body` at `key` with its SHA-256 (`x-amz-checksum-sha256`; S3 refuses the body
    /// if it does not match). `ifAbsent` adds `If-None-Match: *`: the call fails with
    /// `preconditionFailed` instead of replacing an object already there.
    public func put(_ key: String, body: [UInt8], ifAbsent: Bool = false, contentType: String = "application/octet-stream")
        throws(S3Error) {
        let digest = SHA256.hash(data: body)
        var headers: [(name: String, value: String)] = [("content-type", contentType),
                                                         ("x-amz-checksum-sha256", Data(digest).base64EncodedString())]
        if ifAbsent { headers.append(("if-none-match", "*")) }
        _ = try send(.PUT, key: key, headers: headers, body: body, payloadSHA256: digest.hexEncoded)
    }

    /// The whole object (small ones: manifests), or `range` of it (inclusive byte offsets).
    public func get(_ key: String, range: ClosedRange<Int>? = nil) throws(S3Error) -> [UInt8] {
        let headers: [(name: String, value: String)] = range.map { [("range", "bytes=\($0.lowerBound)-\($0.upperBound)")] } ?? []
        return try send(.GET, key: key, headers: headers, expect: range == nil ? [200] : [200, 206]).body
    }

    /// Streams the object into a new file at `path`, hashing as it writes. `durable` fsyncs
    /// it before returning; a copy that is verified, loaded and deleted (a snapshot checkout)
    /// does not need it, since a crash simply downloads it again.
    public func download(_ key: String, to path: String, durable: Bool = false) throws(S3Error) -> (bytes: Int, sha256: String) {
        let sink = try FileSink(path: path)
        _ = try send(.GET, key: key, sink: sink)
        return try sink.finish(durable: durable)
    }

    /// Size of the object, nil when there is none.
    public func head(_ key: String) throws(S3Error) -> Int? {
        do {
            let response = try send(.HEAD, key: key)
            return response.headers.first(name: "content-length").flatMap { Int($0) }
        } catch where error.code == .noSuchKey {
            return nil
        }
    }

    /// Removes the object; removing one that is not there succeeds, as in S3.
    public func delete(_ key: String) throws(S3Error) {
        _ = try send(.DELETE, key: key, expect: [200, 204])
    }

    /// Every object whose key starts with `prefix` (ListObjectsV2, page after page).
    public func list(prefix: String) throws(S3Error) -> [S3Object] {
        var objects: [S3Object] = []
        var token: String?
        repeat {
            var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", prefix), ("max-keys", "1000")]
            if let token { query.append(("continuation-token", token)) }
            let page = try send(.GET, key: nil, query: query).text
            for block in XMLFields.blocks("Contents", in: page) {
                guard let key = XMLFields.value("Key", in: block) else { continue }
                objects.append(S3Object(key: key, bytes: XMLFields.value("Size", in: block).flatMap { Int($0) } ?? 0,
                                        lastModified: XMLFields.value("LastModified", in: block) ?? ""))
            }
            token = XMLFields.value("IsTruncated", in: page) == "true" ? XMLFields.value("NextContinuationToken", in: page) : nil
        } while token != nil
        return objects
    }

    /// Uploads a local file: one PUT up to `multipartThresholdBytes`, a multipart upload above
    /// it, reading one part at a time. With `ifAbsent` an existing key is never replaced.
    /// A failed multipart upload is aborted, so no parts are left behind. Returns the hex SHA-256.
    @discardableResult
    public func upload(file path: String, to key: String, ifAbsent: Bool = false) throws(S3Error) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw S3Error(.io, "cannot open \(path)") }
        defer { try? handle.close() }
        let size: Int
        do { size = Int(try handle.seekToEnd()); try handle.seek(toOffset: 0) } catch {
            throw S3Error(.io, "cannot read the size of \(path): \(error)")
        }
        if size <= configuration.multipartThresholdBytes {
            let body = [UInt8](handle.readData(ofLength: size))
            guard body.count == size else { throw S3Error(.io, "\(path) changed while it was read") }
            try put(key, body: body, ifAbsent: ifAbsent)
            return SHA256.hash(data: body).hexEncoded
        }
        return try uploadInParts(handle, bytes: size, to: key, ifAbsent: ifAbsent)
    }
}
