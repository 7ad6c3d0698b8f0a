import Foundation

/// Snapshots in a local (or shared) folder: `<root>/<space>/<id>/` per snapshot, published by
/// `SnapshotFolder` (temporary sibling, fsync, rename), loose files at `<root>/<key>`.
public struct FolderSnapshotStore: SnapshotStore {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public var location: String { root }

    func folder(_ space: String) -> SnapshotFolder { SnapshotFolder(root: root + "/" + space) }

    public func ids(in space: String) throws(SnapshotError) -> [String] {
        try SnapshotNames.requireValid(key: space)
        return folder(space).ids()
    }

    public func publish(_ manifest: SnapshotManifest, in space: String, writeFiles: (String) throws -> Void) throws -> SnapshotManifest {
        try SnapshotNames.requireValid(key: space)
        do {
            try FileManager.default.createDirectory(atPath: folder(space).root, withIntermediateDirectories: true)
        } catch {
            throw SnapshotError(.io, "cannot create \(folder(space).root): \(error.localizedDescription)")
        }
        return try folder(space).publish(manifest, writeFiles: writeFiles)
    }

    public func checkout(_ id: String, in space: String) throws(SnapshotError) -> SnapshotCheckout {
        try SnapshotNames.requireValid(key: space)
        let manifest = try folder(space).verify(id: id)
        return SnapshotCheckout(path: folder(space).path(of: id), manifest: manifest, downloaded: nil)
    }

    public func remove(_ id: String, in space: String) throws(SnapshotError) {
        try SnapshotNames.requireValid(key: space)
        try SnapshotNames.requireValid(id: id)
        let path = folder(space).path(of: id)
        guard FileManager.default.fileExists(atPath: path) else { return }
        do { try FileManager.default.removeItem(atPath: path) } catch {
            throw SnapshotError(.io, "cannot remove \(path): \(error.localizedDescription)")
        }
    }

    public func publishFile(_ key: String, write: (String) throws -> Void) throws -> String {
        try SnapshotNames.requireValid(key: key)
        let path = root + "/" + key
        guard !FileManager.default.fileExists(atPath: path) else {
            throw SnapshotError(.alreadyExists, "\(key) is already stored; files are immutable")
        }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try write(path)
        try SnapshotFolder.fsync(path: path)
        return try FileHash.sha256(path: path).sha256
    }

    public func checkoutFile(_ key: String, sha256: String) throws(SnapshotError) -> SnapshotCheckout {
        try SnapshotNames.requireValid(key: key)
        let path = root + "/" + key
        let actual = try FileHash.sha256(path: path).sha256
        guard actual == sha256 else {
            throw SnapshotError(.hashMismatch, "SHA-256 \(actual.prefix(16))…, expected \(sha256.prefix(16))…", file: key)
        }
        return SnapshotCheckout(path: path, manifest: nil, downloaded: nil)
    }

    public func removeFile(_ key: String) throws(SnapshotError) {
        try SnapshotNames.requireValid(key: key)
        try? FileManager.default.removeItem(atPath: root + "/" + key)
    }

    public func removeIncomplete(in space: String, olderThanSeconds: Double) throws(SnapshotError) -> [String] {
        try SnapshotNames.requireValid(key: space)
        let root = folder(space).root
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let cutoff = Date().addingTimeInterval(-olderThanSeconds)
        return names.filter { $0.hasPrefix(".tmp-") }.filter { name in
            let attributes = try? FileManager.default.attributesOfItem(atPath: root + "/" + name)
            guard let modified = attributes?[.modificationDate] as? Date, modified < cutoff else { return false }
            return (try? FileManager.default.removeItem(atPath: root + "/" + name)) != nil
        }
    }

    public func probe() throws(SnapshotError) -> String {
        let probe = root + "/.probe-\(getpid())"
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try Data("firebreak".utf8).write(to: URL(fileURLWithPath: probe))
            try FileManager.default.removeItem(atPath: probe)
        } catch {
            throw SnapshotError(.io, "\(root) is not writable: \(error.localizedDescription)")
        }
        return "folder \(root) is writable"
    }
}
