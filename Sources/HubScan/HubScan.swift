// HubScan — finds adversarial hubs: documents retrieved by far more queries than any honest one.
//
// Owns: query samplers (documents, k-means centroids, real queries, mixes), hit accumulation
// over top-k lists (exact through BLAS, or any `NeighborSearch`; plain, rank-weighted,
// similarity-weighted), groups of near-duplicates scored as one (swarms of near-copies),
// calibrated robust z-scores (√ scale, tail-anchored, floored), the stability, real-query,
// spread and domain detectors, the ingest-time screen, and the report.
//
// Never: mutates an index or quarantines anything (it reports; the Engine contains); knows of
// HTTP, SQL or tenants beyond an optional domain label per row; uses unseeded randomness
// (a report is deterministic for a given seed).
//
// Invariants:
// - every z-score is finite: the spread estimate is floored (`RobustStatistics.Transform.floor`),
//   so a median and MAD of 0 never turn one stray hit into an alarm;
// - up to 25 hubs (5 per domain) never set the spread they are measured against;
// - hit totals equal queries × k (every top-k slot is counted exactly once);
// - near-duplicate groups come from pairs some query retrieved together, never an all-pairs
//   pass; members of a group share its z, so a group is flagged whole or not at all;
// - flagged rows are sorted by combined score, highest first.

@_exported import Diagnostics

/// The one error type of HubScan. Switch on `code`, never on `message`.
public typealias HubScanError = CodedError<HubScanErrorCode>

public enum HubScanErrorCode: String, ErrorCode {
    case invalidParameter = "invalid_parameter"
    case dimensionMismatch = "dimension_mismatch"
    case emptyCollection = "empty_collection"
    case nonFiniteValue = "non_finite_value"
}
