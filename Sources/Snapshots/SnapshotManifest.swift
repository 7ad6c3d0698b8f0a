import Crypto
import Foundation
import Hex

/// What a snapshot holds. Encoded as `manifest.json` (snake_case keys, sorted). The root
/// hash is the SHA-256 of the manifest's canonical JSON with `root_hash` empty, so any
/// change to any field, or to any file's recorded size or hash, changes it.
public struct SnapshotManifest: Codable, Sendable, Equatable {
    public static let formatVersion = 1

    public struct File: Codable, Sendable, Equatable {
        public var name: String
        public var bytes: Int
        public var sha256: String
    }

    public struct IndexParameters: Codable, Sendable, Equatable {
        public var m: Int
        public var efConstruction: Int
        public var efSearch: Int

        public init(m: Int, efConstruction: Int, efSearch: Int) {
            self.m = m
            self.efConstruction = efConstruction
            self.efSearch = efSearch
        }
    }

    public var formatVersion = SnapshotManifest.formatVersion
    public var id: String
    public var collection: String
    public var parent: String?
    /// ISO 8601, UTC.
    public var createdAt: String
    public var documents: Int
    public var dimension: Int
    public var metric: String
    public var index: IndexParameters
    /// The analyzer that built the BM25 segment ("name@version"), nil without one.
    public var analyzer: String?
    public var files: [File] = []
    /// The change-log position the snapshot reflects (every change at or below it); nil in
    /// snapshots written before the change log. Covered by the root hash when present.
    public var changeSeq: Int64?
    public var rootHash = ""

    public init(id: String, collection: String, parent: String?, createdAt: Date = Date(), documents: Int,
                dimension: Int, metric: String, index: IndexParameters, analyzer: String?) {
        self.id = id
        self.collection = collection
        self.parent = parent
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        self.createdAt = formatter.string(from: createdAt)
        self.documents = documents
        self.dimension = dimension
        self.metric = metric
        self.index = index
        self.analyzer = analyzer
    }

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    /// The manifest as `manifest.json` holds it (snake_case keys, sorted).
    public var canonicalJSON: String {
        String(decoding: (try? Self.encoder().encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// SHA-256 (hex) of this manifest's canonical JSON with the root hash left empty.
    public func computedRootHash() -> String {
        var unsigned = self
        unsigned.rootHash = ""
        let data = (try? Self.encoder().encode(unsigned)) ?? Data()
        return SHA256.hash(data: data).hexEncoded
    }
}

/// Streaming SHA-256 of a file, 1 MiB at a time.
enum FileHash {
    static let chunkBytes = 1 << 20

    static func sha256(path: String) throws(SnapshotError) -> (bytes: Int, sha256: String) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SnapshotError(.missingFile, "cannot open \(path)", file: (path as NSString).lastPathComponent)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var total = 0
        while true {
            let chunk = handle.readData(ofLength: chunkBytes)
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
            total += chunk.count
        }
        return (total, hasher.finalize().hexEncoded)
    }
}
