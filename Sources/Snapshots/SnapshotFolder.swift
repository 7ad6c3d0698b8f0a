import Dispatch
import DurableFile
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A folder of published snapshots, one subfolder per snapshot id.
public struct SnapshotFolder: Sendable {
    public static let manifestName = "manifest.json"
    public static let filesMax = 1_000

    public let root: String

    public init(root: String) {
        self.root = root
    }

    public func path(of id: String) -> String { root + "/" + id }

    /// Published snapshot ids (temporary folders excluded), sorted.
    public func ids() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { !$0.hasPrefix(".") && Self.isValidID($0) }.sorted()
    }

    public static func isValidID(_ id: String) -> Bool {
        id.range(of: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$", options: .regularExpression) != nil
    }

    /// Publishes a snapshot atomically. `writeFiles` writes the segment files into the
    /// temporary folder it is given (regular files only). The files are hashed and fsynced,
    /// the manifest is written, and the folder is renamed to `<root>/<manifest.id>`: readers
    /// see either no snapshot or the complete one. On any failure the temporary folder is
    /// removed and nothing is published. Returns the manifest with files and root hash.
    public func publish(_ manifest: SnapshotManifest, writeFiles: (String) throws -> Void) throws -> SnapshotManifest {
        guard Self.isValidID(manifest.id) else {
            throw SnapshotError(.invalidInput, "snapshot id \"\(manifest.id)\" must match [A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
        }
        let destination = path(of: manifest.id)
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw SnapshotError(.alreadyExists, "snapshot \(manifest.id) is already published; snapshots are immutable")
        }
        let temporary = root + "/.tmp-\(manifest.id)-\(getpid())"
        try? FileManager.default.removeItem(atPath: temporary)
        do {
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        } catch {
            throw SnapshotError(.io, "cannot create \(temporary): \(error.localizedDescription)")
        }
        do {
            try writeFiles(temporary)
            var published = manifest
            published.files = try Self.describeFiles(in: temporary)
            published.rootHash = published.computedRootHash()
            try Self.writeManifest(published, into: temporary)
            try Self.fsync(path: temporary)
            guard !FaultInjection.fails(.rename), rename(temporary, destination) == 0 else {
                throw SnapshotError(.io, "rename \(temporary) → \(destination) failed: \(String(cString: strerror(FaultInjection.fails(.rename) ? EIO : errno)))")
            }
            try? Self.fsync(path: root)
            return published
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Verifies `<root>/<id>` (see `SnapshotFolder.verify(folder:)`).
    public func verify(id: String) throws(SnapshotError) -> SnapshotManifest {
        guard Self.isValidID(id), FileManager.default.fileExists(atPath: path(of: id)) else {
            throw SnapshotError(.notFound, "no snapshot \(id) in \(root)")
        }
        return try Self.verify(folder: path(of: id))
    }

    /// Checks a snapshot folder before it may serve: the manifest decodes and has this
    /// build's format version, its root hash matches, every listed file exists with the
    /// recorded size and SHA-256, and no unlisted file is present. The error names the file.
    public static func verify(folder: String) throws(SnapshotError) -> SnapshotManifest {
        let manifest = try readManifest(folder: folder)
        // Files are hashed concurrently (one per core); the first problem in manifest order is reported.
        var problems = [SnapshotError?](repeating: nil, count: manifest.files.count)
        problems.withUnsafeMutableBufferPointer { slots in
            let slots = UncheckedSendable(slots)
            DispatchQueue.concurrentPerform(iterations: manifest.files.count) { index in
                do throws(SnapshotError) { try check(manifest.files[index], in: folder) } catch { slots.value[index] = error }
            }
        }
        if let problem = problems.lazy.compactMap({ $0 }).first { throw problem }
        let listed = Set(manifest.files.map(\.name) + [manifestName])
        let present = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        if let extra = present.sorted().first(where: { !listed.contains($0) }) {
            throw SnapshotError(.unexpectedFile, "present in the folder but not in the manifest", file: extra)
        }
        return manifest
    }

    /// One listed file: present, of the recorded size and SHA-256.
    private static func check(_ file: SnapshotManifest.File, in folder: String) throws(SnapshotError) {
        guard isSafeName(file.name), FileManager.default.fileExists(atPath: folder + "/" + file.name) else {
            throw SnapshotError(.missingFile, "listed in the manifest but missing", file: file.name)
        }
        let (bytes, sha256) = try FileHash.sha256(path: folder + "/" + file.name)
        guard bytes == file.bytes else {
            throw SnapshotError(.sizeMismatch, "\(bytes) bytes, the manifest says \(file.bytes)", file: file.name)
        }
        guard sha256 == file.sha256 else {
            throw SnapshotError(.hashMismatch, "SHA-256 \(sha256.prefix(16))…, the manifest says \(file.sha256.prefix(16))…", file: file.name)
        }
    }

    static func readManifest(folder: String) throws(SnapshotError) -> SnapshotManifest {
        guard let data = FileManager.default.contents(atPath: folder + "/" + manifestName) else {
            throw SnapshotError(.missingFile, "no manifest in \(folder)", file: manifestName)
        }
        return try decodeManifest(data)
    }

    /// A manifest of this build's format whose root hash matches its contents.
    static func decodeManifest(_ data: Data) throws(SnapshotError) -> SnapshotManifest {
        let manifest: SnapshotManifest
        do {
            manifest = try SnapshotManifest.decoder().decode(SnapshotManifest.self, from: data)
        } catch {
            throw SnapshotError(.manifestInvalid, "the manifest is not valid JSON of the expected shape", file: manifestName)
        }
        guard manifest.formatVersion == SnapshotManifest.formatVersion else {
            throw SnapshotError(.unsupportedVersion, "manifest format \(manifest.formatVersion); this build reads \(SnapshotManifest.formatVersion)", file: manifestName)
        }
        guard manifest.rootHash == manifest.computedRootHash() else {
            throw SnapshotError(.hashMismatch, "the manifest's root hash does not match its contents", file: manifestName)
        }
        return manifest
    }

    static func isSafeName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("/") && name != "." && name != ".." && name != manifestName
    }

    /// Size and SHA-256 of every file the writer produced, each fsynced; sorted by name.
    static func describeFiles(in folder: String) throws -> [SnapshotManifest.File] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        guard names.count <= filesMax else { throw SnapshotError(.invalidInput, "\(names.count) files; the limit is \(filesMax)") }
        return try names.map { name in
            var isFolder: ObjCBool = false
            guard isSafeName(name), FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isFolder),
                  !isFolder.boolValue else {
                throw SnapshotError(.invalidInput, "a snapshot holds regular files only", file: name)
            }
            try fsync(path: folder + "/" + name)
            let (bytes, sha256) = try FileHash.sha256(path: folder + "/" + name)
            return SnapshotManifest.File(name: name, bytes: bytes, sha256: sha256)
        }
    }

    static func writeManifest(_ manifest: SnapshotManifest, into folder: String) throws {
        let data = try SnapshotManifest.encoder().encode(manifest)
        var writer = try AtomicFileWriter(path: folder + "/" + manifestName)
        try writer.write([UInt8](data))
        try writer.commit()
    }

    static func fsync(path: String) throws(SnapshotError) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw SnapshotError(.io, "cannot open \(path) to fsync: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard !FaultInjection.fails(.fsync), Glibc.fsync(descriptor) == 0 else {
            throw SnapshotError(.io, "fsync of \(path) failed")
        }
    }
}

/// A value handed to `concurrentPerform` workers that write disjoint slots of it.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
