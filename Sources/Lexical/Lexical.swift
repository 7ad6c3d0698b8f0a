// Lexical — keyword search (BM25) that can carry retrieval alone while a graph is rebuilt.
//
// Owns: the analyzer (NFKC, lower-casing, tokenizing, stop words, the English Snowball
// stemmer), an inverted index with block-encoded postings, Lucene-style BM25 scores that can
// explain themselves, top-k retrieval with MaxScore pruning under the same allow-filter as
// HNSW, reciprocal-rank fusion for hybrid search, and a versioned, checksummed file format.
//
// Never: knows of vectors, tenants, quarantine reasons, HTTP or SQL (it sees labels and an
// allow-filter bitset); returns a deleted or filtered-out document, or lets one push an
// allowed document out of the top k; analyses a query differently from the documents of
// the index it searches (the analyzer's configuration and version travel with the index);
// leaves the index half-changed after a rejected input.
//
// Invariants (checked by `integrityProblem()` in tests and before a loaded file may serve):
// - every posting list is strictly increasing in document id, every id < documentCount;
// - a term's document frequency equals its live (not deleted) postings;
// - the collection statistics (live documents, total length) equal a fresh count;
// - labels are unique and `labelToDocument` is their exact inverse over live documents.
//
// Concurrency: searches may run concurrently with each other; mutations need exclusive
// access, which the owner provides (the Engine: a collection's `writers` mutex).

@_exported import Diagnostics

/// The one error type of the Lexical module. Switch on `code`, never on `message`.
public typealias LexicalError = CodedError<LexicalErrorCode>

public enum LexicalErrorCode: String, ErrorCode {
    case invalidUTF8 = "invalid_utf8"
    case queryTooLong = "query_too_long"
    case documentTooLong = "document_too_long"
    case invalidK = "invalid_k"
    case invalidParameter = "invalid_parameter"
    case duplicateLabel = "duplicate_label"
    case unknownLabel = "unknown_label"
    case capacityExceeded = "capacity_exceeded"
    case analyzerMismatch = "analyzer_mismatch"
    case fileCorrupted = "file_corrupted"
    case fileTruncated = "file_truncated"
    case unsupportedVersion = "unsupported_version"
    case io = "io_error"
}
