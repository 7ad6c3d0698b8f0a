// Snapshots — immutable, versioned, verifiable index snapshots.
//
// Owns: the manifest (what a snapshot holds, every file's size and SHA-256, a root hash over
// the whole manifest); the `SnapshotStore` protocol every publish, list, load, verify and
// retire goes through, with its two stores: a folder (`FolderSnapshotStore`: write into a
// temporary sibling, fsync every file and the folder, rename into place, fsync the parent)
// and S3-compatible object storage (`S3SnapshotStore`: segment files first, each with its
// SHA-256 and `If-None-Match: *`, the manifest last); and verification before anything is served.
//
// Never: knows how a segment is encoded (HNSW, Lexical and the callers write their own
// files); changes a published snapshot (publishing onto an existing id is refused); serves
// or returns a manifest whose files do not verify.
//
// Invariants:
// - A snapshot is visible (listed, loadable) only complete: in a folder its manifest lists
//   exactly the files present; in S3 its manifest object exists only after every segment.
// - An id is never overwritten: a second publish of it is refused (`already_exists`).
// - A checkout hands out files only after each matched the manifest's size and SHA-256 and
//   the manifest its root hash; the error names the file that did not.
// - Temporary folders (`.tmp-*`, `.staging-*`) are never mistaken for snapshots and are
//   removed on failure.

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
        /// The object store failed or refused a call (the message carries S3's answer).
        case remote = "remote_store_error"
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
