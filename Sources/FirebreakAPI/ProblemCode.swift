/// Every code a problem-details body of this service carries: what clients switch on (the
/// Python client has one exception class per case). The server names a code only through
/// this type, so a new code is a new case here, and a test checks that every engine and
/// incident error code has one.
public enum ProblemCode: String, Codable, Sendable, CaseIterable {
    // The request itself
    case invalidInput = "invalid_input"
    case malformedJSON = "malformed_json"
    case invalidUTF8 = "invalid_utf8"
    case bodyTooLarge = "body_too_large"
    case queryTooLong = "query_too_long"
    case dimensionMismatch = "dimension_mismatch"
    case invalidVector = "invalid_vector"
    case confirmationRequired = "confirmation_required"
    /// A route this service does not have.
    case notFound = "not_found"
    /// Any other HTTP-level refusal (a method the route does not take, …).
    case httpError = "http_error"

    // Who may ask
    case unauthorized
    case forbidden
    case tenantForbidden = "tenant_forbidden"
    case tenantBlocked = "tenant_blocked"
    case csrfFailed = "csrf_failed"

    // Idempotency-Key
    case idempotencyKeyRequired = "idempotency_key_required"
    case invalidIdempotencyKey = "invalid_idempotency_key"
    case idempotencyKeyReused = "idempotency_key_reused"
    case idempotencyKeyInUse = "idempotency_key_in_use"
    case idempotencyKeyCommitted = "idempotency_key_committed"

    // Unknown references
    case unknownCollection = "unknown_collection"
    case unknownDocument = "unknown_document"
    case unknownIncident = "unknown_incident"
    case unknownJob = "unknown_job"
    case unknownSnapshot = "unknown_snapshot"
    case unknownScan = "unknown_scan"
    case unknownFlag = "unknown_flag"
    case unknownReference = "unknown_reference"
    case noGoldenQueries = "no_golden_queries"

    // Conflicts with the state of things
    case duplicateDocument = "duplicate_document"
    case duplicateCollection = "duplicate_collection"
    case collectionFrozen = "collection_frozen"
    case documentQuarantined = "document_quarantined"
    case scanRequired = "scan_required"
    case jobFinished = "job_finished"
    case rebuildRunning = "rebuild_running"
    case snapshotInvalid = "snapshot_invalid"
    case noCleanSnapshot = "no_clean_snapshot"
    case incidentClosed = "incident_closed"
    case incidentNotResolvable = "incident_not_resolvable"
    case forensicSnapshotRequired = "forensic_snapshot_required"
    case scanReportUnreadable = "scan_report_unreadable"
    case transitionNotAllowed = "transition_not_allowed"
    case actionNotVerified = "action_not_verified"
    case signatureInvalid = "signature_invalid"
    case invalidData = "invalid_data"
    case constraintViolation = "constraint_violation"

    // The service, not the request
    case busy
    case overloaded
    case replicaBehind = "replica_behind"
    case startFailed = "start_failed"
    /// The instance has no incident signing key (`firebreak serve --signing-key`), so it cannot sign an export.
    case signingKeyUnavailable = "signing_key_unavailable"
    case storeFailed = "store_failed"
    case storeUnavailable = "store_unavailable"
    case indexFailed = "index_failed"
    /// A collection this replica could not load at start-up (`/readyz` lists it, with the reason).
    case collectionUnavailable = "collection_unavailable"
    case internalError = "internal_error"
}
