// Snapshots — immutable, versioned, verifiable index snapshots.
//
// Owns: the manifest (what a snapshot holds, every file's size and SHA-256, a root hash over
// the whole manifest), atomic publication of a snapshot folder (write into a temporary
// sibling, fsync every file and the folder, rename into place, fsync the parent), and
// verification before anything is served.
//
// Never: knows how a segment is encoded (HNSW, Lexical and the callers write their own
// files); changes a published snapshot (publishing onto an existing id is refused); serves
// or returns a manifest whose files do not verify.
//
// Invariants:
// - A snapshot folder `<root>/<id>` exists only complete: its manifest lists exactly the
//   files in the folder, with their sizes and SHA-256s, and the root hash matches.
// - Temporary folders (`.tmp-*`) are never mistaken for snapshots and are removed on failure.

/// The one error type of Snapshots. `file` names the file a verification failed on.
public struct SnapshotError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case invalidInput = "invalid_input"
        case alreadyExists = "already_exists"
        case notFound = "not_found"
        case missingFile = "missing_file"
        case unexpectedFile = "unexpected_file"
        case sizeMismatch = "size_mismatch"
        case hashMismatch = "hash_mismatch"
        case manifestInvalid = "manifest_invalid"
        case unsupportedVersion = "unsupported_version"
        case io = "io_error"
    }

    public let code: Code
    public let message: String
    public let file: String?

    public init(_ code: Code, _ message: String, file: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
    }

    public var description: String { "\(code.rawValue)\(file.map { " (\($0))" } ?? ""): \(message)" }
}
