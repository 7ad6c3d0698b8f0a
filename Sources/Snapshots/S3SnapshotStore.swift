import Dispatch
import Foundation
import ObjectStore

/// Snapshots in an S3-compatible bucket: `<prefix>/<space>/<id>/<file>` per segment and
/// `<prefix>/<space>/<id>/manifest.json` last. A snapshot exists for readers exactly when its
/// manifest object does, and every object is written with `If-None-Match: *`, so a publish
/// never overwrites anything. Checkouts download into `cacheRoot` (streamed, hashed on the
/// way) and are verified before the caller sees them.
public final class S3SnapshotStore: SnapshotStore {
    public let client: S3Client
    /// Key prefix inside the bucket, without a trailing `/` (may be empty).
    public let prefix: String
    /// Local folder for staging publishes and holding checkouts until they are released.
    public let cacheRoot: String

    public init(client: S3Client, prefix: String, cacheRoot: String) {
        self.client = client
        self.prefix = prefix.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        self.cacheRoot = cacheRoot
    }

    /// `s3://bucket/prefix` → (bucket, prefix); nil when `url` is not of that form.
    public static func parse(_ url: String) -> (bucket: String, prefix: String)? {
        guard url.hasPrefix("s3://") else { return nil }
        let rest = url.dropFirst(5)
        let bucket = rest.prefix { $0 != "/" }
        guard bucket.range(of: "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", options: .regularExpression) != nil else { return nil }
        let prefix = rest.dropFirst(bucket.count).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        return (String(bucket), prefix)
    }

    public var location: String { "s3://\(client.configuration.bucket)" + (prefix.isEmpty ? "" : "/" + prefix) }

    /// The object key of `parts` under the prefix (`prefix/c12/s1-…/p0000.hnsw`).
    public func key(_ parts: String...) -> String { ([prefix] + parts).filter { !$0.isEmpty }.joined(separator: "/") }

    public func ids(in space: String) throws(SnapshotError) -> [String] {
        try SnapshotNames.requireValid(key: space)
        let base = key(space) + "/"
        let objects = try remote { () throws(S3Error) in try client.list(prefix: base) }
        return objects.compactMap { object -> String? in
            let parts = object.key.dropFirst(base.count).split(separator: "/")
            guard parts.count == 2, parts[1] == Substring(SnapshotFolder.manifestName),
                  SnapshotFolder.isValidID(String(parts[0])) else { return nil }
            return String(parts[0])
        }.sorted()
    }

    public func publish(_ manifest: SnapshotManifest, in space: String, writeFiles: (String) throws -> Void) throws -> SnapshotManifest {
        try SnapshotNames.requireValid(key: space)
        try SnapshotNames.requireValid(id: manifest.id)
        let manifestKey = key(space, manifest.id, SnapshotFolder.manifestName)
        if try remote({ () throws(S3Error) in try client.head(manifestKey) }) != nil {
            throw SnapshotError(.alreadyExists, "snapshot \(manifest.id) is already published in \(location); snapshots are immutable")
        }
        let staging = try makeFolder(".staging-\(manifest.id)-\(getpid())")
        defer { try? FileManager.default.removeItem(atPath: staging) }
        try writeFiles(staging)
        var published = manifest
        published.files = try SnapshotFolder.describeFiles(in: staging)
        published.rootHash = published.computedRootHash()
        var stored: [String] = []
        do {
            for file in published.files {
                let objectKey = key(space, manifest.id, file.name)
                try remote { () throws(S3Error) in try client.upload(file: staging + "/" + file.name, to: objectKey, ifAbsent: true) }
                stored.append(objectKey)
            }
            let body = try SnapshotManifest.encoder().encode(published)
            try remote { () throws(S3Error) in try client.put(manifestKey, body: [UInt8](body), ifAbsent: true, contentType: "application/json") }
            return published
        } catch {
            for objectKey in stored { try? client.delete(objectKey) }
            throw error
        }
    }

    public func checkout(_ id: String, in space: String) throws(SnapshotError) -> SnapshotCheckout {
        try SnapshotNames.requireValid(key: space)
        try SnapshotNames.requireValid(id: id)
        let manifestBytes: [UInt8]
        do {
            manifestBytes = try client.get(key(space, id, SnapshotFolder.manifestName))
        } catch where error.code == .noSuchKey {
            throw SnapshotError(.notFound, "no snapshot \(id) in \(location)/\(space)")
        } catch {
            throw SnapshotError(.remote, "reading the manifest of \(id): \(error)", file: SnapshotFolder.manifestName)
        }
        let manifest = try SnapshotFolder.decodeManifest(Data(manifestBytes))
        guard manifest.id == id else {
            throw SnapshotError(.manifestInvalid, "the manifest names snapshot \(manifest.id)", file: SnapshotFolder.manifestName)
        }
        try refuseUnlisted(manifest, space: space)
        let folder = try makeFolder("\(space.replacingOccurrences(of: "/", with: "_"))-\(id)-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try download(manifest.files, of: id, in: space, into: folder)
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        return SnapshotCheckout(path: folder, manifest: manifest, downloaded: folder)
    }

    /// Downloads every listed file (two at a time), each checked against its size and SHA-256;
    /// the first problem in manifest order is reported.
    private func download(_ files: [SnapshotManifest.File], of id: String, in space: String, into folder: String)
        throws(SnapshotError) {
        var problems = [SnapshotError?](repeating: nil, count: files.count)
        problems.withUnsafeMutableBufferPointer { slots in
            let slots = UncheckedSendable(slots)
            DispatchQueue.concurrentPerform(iterations: files.count) { index in
                do throws(SnapshotError) { try fetch(files[index], of: id, in: space, into: folder) } catch { slots.value[index] = error }
            }
        }
        if let problem = problems.lazy.compactMap({ $0 }).first { throw problem }
    }

    private func fetch(_ file: SnapshotManifest.File, of id: String, in space: String, into folder: String) throws(SnapshotError) {
        guard SnapshotFolder.isSafeName(file.name) else {
            throw SnapshotError(.manifestInvalid, "the manifest lists an unsafe file name", file: file.name)
        }
        let got: (bytes: Int, sha256: String)
        do {
            got = try client.download(key(space, id, file.name), to: folder + "/" + file.name)
        } catch where error.code == .noSuchKey {
            throw SnapshotError(.missingFile, "listed in the manifest but not in \(location)", file: file.name)
        } catch {
            throw SnapshotError(.remote, "downloading: \(error)", file: file.name)
        }
        guard got.bytes == file.bytes else {
            throw SnapshotError(.sizeMismatch, "\(got.bytes) bytes, the manifest says \(file.bytes)", file: file.name)
        }
        guard got.sha256 == file.sha256 else {
            throw SnapshotError(.hashMismatch, "SHA-256 \(got.sha256.prefix(16))…, the manifest says \(file.sha256.prefix(16))…",
                                file: file.name)
        }
    }

    /// An object under the snapshot that the manifest does not list is refused, as a stray
    /// file in a snapshot folder is.
    private func refuseUnlisted(_ manifest: SnapshotManifest, space: String) throws(SnapshotError) {
        let base = key(space, manifest.id) + "/"
        let listed = Set(manifest.files.map(\.name) + [SnapshotFolder.manifestName])
        let present = try remote { () throws(S3Error) in try client.list(prefix: base) }.map { String($0.key.dropFirst(base.count)) }
        if let extra = present.sorted().first(where: { !listed.contains($0) }) {
            throw SnapshotError(.unexpectedFile, "present in \(location) but not in the manifest", file: extra)
        }
    }

    public func remove(_ id: String, in space: String) throws(SnapshotError) {
        try SnapshotNames.requireValid(key: space)
        try SnapshotNames.requireValid(id: id)
        try remote { () throws(S3Error) in try client.delete(key(space, id, SnapshotFolder.manifestName)) }
        for object in try remote({ () throws(S3Error) in try client.list(prefix: key(space, id) + "/") }) {
            try remote { () throws(S3Error) in try client.delete(object.key) }
        }
    }

    public func publishFile(_ fileKey: String, write: (String) throws -> Void) throws -> String {
        try SnapshotNames.requireValid(key: fileKey)
        let staging = try makeFolder(".staging-file-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let path = staging + "/" + ((fileKey as NSString).lastPathComponent)
        try write(path)
        return try remote { () throws(S3Error) in try client.upload(file: path, to: key(fileKey), ifAbsent: true) }
    }

    public func checkoutFile(_ fileKey: String, sha256: String) throws(SnapshotError) -> SnapshotCheckout {
        try SnapshotNames.requireValid(key: fileKey)
        let folder = try makeFolder("file-\(UInt32.random(in: 0...UInt32.max))")
        let path = folder + "/" + ((fileKey as NSString).lastPathComponent)
        do throws(SnapshotError) {
            let got = try remote { () throws(S3Error) in try client.download(key(fileKey), to: path) }
            guard got.sha256 == sha256 else {
                throw SnapshotError(.hashMismatch, "SHA-256 \(got.sha256.prefix(16))…, expected \(sha256.prefix(16))…", file: fileKey)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        return SnapshotCheckout(path: path, manifest: nil, downloaded: folder)
    }

    public func removeFile(_ fileKey: String) throws(SnapshotError) {
        try SnapshotNames.requireValid(key: fileKey)
        try remote { () throws(S3Error) in try client.delete(key(fileKey)) }
    }

    public func removeIncomplete(in space: String, olderThanSeconds: Double) throws(SnapshotError) -> [String] {
        try SnapshotNames.requireValid(key: space)
        let base = key(space) + "/"
        let cutoff = Date().addingTimeInterval(-olderThanSeconds)
        let objects = try remote { () throws(S3Error) in try client.list(prefix: base) }
        let byID = Dictionary(grouping: objects) { String($0.key.dropFirst(base.count).prefix { $0 != "/" }) }
        var removed: [String] = []
        for (id, parts) in byID.sorted(by: { $0.key < $1.key }) where SnapshotFolder.isValidID(id) {
            guard !parts.contains(where: { $0.key.hasSuffix("/" + SnapshotFolder.manifestName) }),
                  parts.allSatisfy({ ($0.modified ?? .distantFuture) < cutoff }) else { continue }
            for part in parts { try remote { () throws(S3Error) in try client.delete(part.key) } }
            removed.append("\(id) (\(parts.count) objects without a manifest)")
        }
        for upload in try remote({ () throws(S3Error) in try client.openUploads(prefix: base) })
        where (S3Dates.parse(upload.initiated) ?? .distantFuture) < cutoff {
            try remote { () throws(S3Error) in try client.abort(upload.key, uploadID: upload.uploadID) }
            removed.append("multipart upload of \(upload.key)")
        }
        return removed
    }

    public func probe() throws(SnapshotError) -> String {
        let probeKey = key(".doctor", "probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let body = Array("firebreak doctor \(Date())".utf8)
        let started = Date()
        try remote { () throws(S3Error) in try client.put(probeKey, body: body, ifAbsent: true) }
        let read = try remote { () throws(S3Error) in try client.get(probeKey) }
        try remote { () throws(S3Error) in try client.delete(probeKey) }
        guard read == body else { throw SnapshotError(.remote, "\(location) returned different bytes than were written") }
        return "\(location) is reachable and writable (put, get and delete in \(Int(Date().timeIntervalSince(started) * 1_000)) ms)"
    }

    private func makeFolder(_ name: String) throws(SnapshotError) -> String {
        let path = cacheRoot + "/" + name
        do {
            try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw SnapshotError(.io, "cannot create \(path): \(error.localizedDescription)")
        }
        return path
    }

    /// An S3 call, its failure as a SnapshotError (a refused `If-None-Match` is `already_exists`).
    private func remote<T>(_ call: () throws(S3Error) -> T) throws(SnapshotError) -> T {
        do { return try call() } catch {
            if error.code == .preconditionFailed { throw SnapshotError(.alreadyExists, "\(error); objects are never overwritten") }
            throw SnapshotError(.remote, error.description)
        }
    }
}
