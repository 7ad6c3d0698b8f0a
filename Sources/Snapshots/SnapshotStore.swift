import Foundation

/// Where published snapshots live. Every publish, list, load (`checkout`), verify and retire
/// goes through one of these: `FolderSnapshotStore` (a folder, the default) or
/// `S3SnapshotStore` (S3-compatible object storage). A store holds *spaces* (one per
/// collection, `c12`), each holding snapshots by id, and loose *files* by relative key (the
/// rebuilt graphs replicas hand each other).
///
/// Calls block their thread (file I/O, or S3 over the network): callers run them on
/// Dispatch threads, not on the Swift concurrency pool.
public protocol SnapshotStore: Sendable {
    /// For people: `/srv/fb/snapshots` or `s3://bucket/prefix`.
    var location: String { get }

    /// Ids of the complete snapshots in `space`, sorted.
    func ids(in space: String) throws(SnapshotError) -> [String]

    /// Publishes a snapshot atomically: `writeFiles` writes the segment files into the local
    /// folder it is given; the store hashes them, records them in the manifest, and makes the
    /// snapshot visible only once all of it is stored. An id already published is refused
    /// (`already_exists`). On failure nothing is visible and what was written is removed.
    func publish(_ manifest: SnapshotManifest, in space: String, writeFiles: (String) throws -> Void) throws -> SnapshotManifest

    /// A local folder holding the snapshot's files, every one checked against the manifest
    /// (size and SHA-256) and the manifest against its root hash. The error names the file.
    /// `release()` the checkout once the files are loaded.
    func checkout(_ id: String, in space: String) throws(SnapshotError) -> SnapshotCheckout

    /// Removes a retired snapshot: first its manifest (it stops being visible), then its files.
    func remove(_ id: String, in space: String) throws(SnapshotError)

    /// Stores one file at `key` (relative, `c12/rebuilt/j5-acme.hnsw`): `write` writes it at
    /// the local path it is given. Never replaces a file already there. Returns its hex SHA-256.
    func publishFile(_ key: String, write: (String) throws -> Void) throws -> String

    /// A local copy of the file at `key`, checked against `sha256`. `release()` it after use.
    func checkoutFile(_ key: String, sha256: String) throws(SnapshotError) -> SnapshotCheckout

    func removeFile(_ key: String) throws(SnapshotError)

    /// What publishes that never finished (a process killed mid-upload) left in `space`, older
    /// than `olderThanSeconds`: segment objects without a manifest and open multipart uploads
    /// in S3, `.tmp-*` folders in a folder store. Removes them and says what it removed.
    /// Younger leftovers may be a publish still running elsewhere, and are kept.
    func removeIncomplete(in space: String, olderThanSeconds: Double) throws(SnapshotError) -> [String]

    /// Writes, reads back and deletes a small object: says what is wrong when the store is not
    /// reachable or not writable (`firebreak doctor`).
    func probe() throws(SnapshotError) -> String
}

extension SnapshotStore {
    /// Checks a snapshot without keeping a copy: `checkout` then `release`.
    public func verify(_ id: String, in space: String) throws(SnapshotError) -> SnapshotManifest {
        let checkout = try checkout(id, in: space)
        defer { checkout.release() }
        guard let manifest = checkout.manifest else { preconditionFailure("a snapshot checkout carries its manifest") }
        return manifest
    }
}

/// Files a store handed out, verified. `path` is the snapshot's folder (or the one file);
/// a downloaded copy is deleted by `release()`, a folder store's own files are left alone.
public struct SnapshotCheckout: Sendable {
    public let path: String
    public let manifest: SnapshotManifest?
    /// The local copy to delete on release, nil when the files are the store's own.
    let downloaded: String?

    public func release() {
        if let downloaded { try? FileManager.default.removeItem(atPath: downloaded) }
    }
}

/// Snapshot ids and space names are also folder names and object-key segments.
enum SnapshotNames {
    static func requireValid(id: String) throws(SnapshotError) {
        guard SnapshotFolder.isValidID(id) else {
            throw SnapshotError(.invalidInput, "snapshot id \"\(id.prefix(140))\" must match [A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
        }
    }

    /// `c12` or `a/b`: segments of safe names, no `..`.
    static func requireValid(key: String) throws(SnapshotError) {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.isEmpty, segments.allSatisfy({ SnapshotFolder.isValidID(String($0)) }) else {
            throw SnapshotError(.invalidInput, "\"\(key.prefix(200))\" is not a valid relative key")
        }
    }
}
