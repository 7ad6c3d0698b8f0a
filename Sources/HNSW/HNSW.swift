// HNSW — the graph index every vector search path stands on.
//
// Owns: a Malkov–Yashunin hierarchical navigable small-world graph over float32 vectors:
// concurrent build, incremental inserts, filtered k-NN search that still returns k results,
// tombstone deletes, compaction, and a flat, versioned, checksummed on-disk format.
//
// Never: knows of documents, tenants, quarantine reasons, HTTP or SQL (it sees only internal
// ids, external 64-bit labels and an allow-filter bitset); returns a filtered-out or deleted id;
// serves a file whose checksum or structure does not verify; leaves the index half-changed
// after a rejected input (all validation happens before the first write).
//
// Invariants (checked by `integrityProblem()`, after every mutation in debug and
// -DFIREBREAK_INVARIANTS builds, and before a loaded file may serve):
// - every node's level-0 degree ≤ 2·M and upper-level degree ≤ M;
// - every neighbour id is < count and never the node itself;
// - a node at level l has link lists for levels 1...l; the entry point has the top level;
// - every node is reachable from the entry point at level 0;
// - the maintained level-0 in-degrees equal a fresh count;
// - labels are unique and `labelToID` is their exact inverse.
//
// Concurrency: searches may run concurrently with each other. Mutations (add, delete,
// compaction) need exclusive access, which the owner provides (the Engine: a collection's
// `writers` mutex, plus its state lock around a swap); inside
// one `add` call the build itself runs on all cores with per-node spin locks.

@_exported import Diagnostics

/// The one error type of the HNSW module. Switch on `code`, never on `message`.
public typealias HNSWError = CodedError<HNSWErrorCode>

public enum HNSWErrorCode: String, ErrorCode {
    case dimensionMismatch = "dimension_mismatch"
    case nonFiniteValue = "non_finite_value"
    case zeroVector = "zero_vector"
    case invalidK = "invalid_k"
    case invalidParameter = "invalid_parameter"
    case duplicateLabel = "duplicate_label"
    case unknownLabel = "unknown_label"
    case capacityExceeded = "capacity_exceeded"
    case fileCorrupted = "file_corrupted"
    case fileTruncated = "file_truncated"
    case unsupportedVersion = "unsupported_version"
    case io = "io_error"
}
