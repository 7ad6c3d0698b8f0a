import VectorMath

/// Where a scan's top-k lists come from: exact batched k-NN through BLAS by default, or an
/// approximate index for collections too large for exact search. An index adapter lives with
/// the index's owner (HubScan knows no index): see `Engine.HNSWNeighborSearch`.
public protocol NeighborSearch: Sendable {
    /// Named in the report's parameters ("exact", "hnsw").
    var name: String { get }
    /// Whether `search` does the 2·q·n·d multiply-adds of an exact search (for the flop rate).
    var isExact: Bool { get }
    /// The `k` nearest rows (indices into the scanned matrix) of every query, closest first.
    func search(queries: Matrix, k: Int) throws(HubScanError) -> KNNResult
}

/// Exact batched k-NN over the scanned matrix (`ExactSearch`: BLAS tiles, one worker per core).
public struct ExactNeighborSearch: NeighborSearch {
    public let base: Matrix
    public let metric: Metric
    public var name: String { "exact" }
    public var isExact: Bool { true }

    public init(base: Matrix, metric: Metric) {
        self.base = base
        self.metric = metric
    }

    public func search(queries: Matrix, k: Int) throws(HubScanError) -> KNNResult {
        do {
            return try ExactSearch.search(queries: queries, base: base, k: min(k, base.rows), metric: metric)
        } catch {
            throw HubScanError(.dimensionMismatch, error.message)
        }
    }
}
