// Engine — each collection's live, searchable state.
//
// Owns: the in-memory serving state of every collection: one partition per tenant (its own
// HNSW graph and BM25 index), the allow-filters that withhold quarantined documents, the
// feature flags (FF_INDEX_FREEZE, FF_TENANT_BLOCK), the collection mode, and the write paths
// that keep PostgreSQL (the system of record) and memory in step: ingest, delete, quarantine,
// release, flag changes; scans of the served vectors and the policies they trigger (alert,
// auto-contain), scan schedules, and partition rebuild jobs behind the BM25 fallback;
// snapshots of the served partitions and rollback to them; the retrieval log (what each
// search served, for an incident's blast radius) and the reservoir of answered queries.
//
// Never: knows HTTP; serves a document it has been told is quarantined (the filter bit is
// cleared *before* the quarantine transaction starts and restored only if it fails, so the
// document is withheld from the moment the request arrives); lets one tenant's search touch
// another tenant's partition; writes to memory what PostgreSQL refused.
//
// Invariants:
// - Every live document is in exactly one partition (its tenant's), in both its HNSW graph
//   and its BM25 index, under the same label: its `documents.id` row id.
// - A document is in `quarantined` iff its bit is clear in both allow-filters of its partition.
// - Mutations hold the collection's write lock; searches hold the read lock, so a search sees
//   one consistent state and runs concurrently with other searches.
// - A rebuilt graph is swapped in whole, under the write lock, with the quarantine and the
//   deletions made meanwhile re-applied: a rebuild never resurrects a document.
// - A rollback never resurrects one either: restored partitions get the active quarantine
//   applied and the deletions made since tombstoned; documents the snapshot never held are
//   retired in the same transaction as the incident's `rollback` event.
// - A search never waits on PostgreSQL: the retrieval log buffers in memory (bounded) and
//   writes in batches.

@_exported import Diagnostics

/// Codes of `EngineError`, stable strings that the server maps to HTTP statuses.
public enum EngineErrorCode: String, ErrorCode, CaseIterable {
    case invalidInput = "invalid_input"
    case dimensionMismatch = "dimension_mismatch"
    case invalidVector = "invalid_vector"
    case unknownCollection = "unknown_collection"
    case unknownDocument = "unknown_document"
    case duplicateDocument = "duplicate_document"
    case duplicateCollection = "duplicate_collection"
    case collectionFrozen = "collection_frozen"
    case documentQuarantined = "document_quarantined"
    case scanRequired = "scan_required"
    case unknownJob = "unknown_job"
    case jobFinished = "job_finished"
    case rebuildRunning = "rebuild_running"
    case unknownSnapshot = "unknown_snapshot"
    case snapshotInvalid = "snapshot_invalid"
    case noCleanSnapshot = "no_clean_snapshot"
    case tenantBlocked = "tenant_blocked"
    case queryTooLong = "query_too_long"
    case invalidUTF8 = "invalid_utf8"
    case unknownIncident = "unknown_incident"
    case incidentClosed = "incident_closed"
    /// A resolution the incident's collection does not allow yet (a rebuild open, a flagged document served).
    case incidentNotResolvable = "incident_not_resolvable"
    /// A SEV-0/1 incident on a collection declared where no forensic snapshot can be taken.
    case forensicSnapshotRequired = "forensic_snapshot_required"
    /// A stored scan report this build cannot read (written before its fields were fixed): run a new scan.
    case scanReportUnreadable = "scan_report_unreadable"
    case storeFailed = "store_failed"
    /// Every database connection stayed busy past the pool's wait: retry shortly.
    case busy = "busy"
    case indexFailed = "index_failed"
    /// A collection this replica could not load at start-up (its other collections serve);
    /// the message and `/readyz` say why. A restart tries again.
    case collectionUnavailable = "collection_unavailable"
}

/// The one error type of the Engine module.
public typealias EngineError = CodedError<EngineErrorCode>
