import Dispatch
import Foundation
import HNSW
import HubScan
import VectorMath

/// HubScan's top-k lists from an HNSW graph instead of exact search: for collections too large
/// to scan exactly on a schedule. The graph's labels must be the scanned matrix's row numbers
/// (`0..<rows`); a hit whose label is not a row is an error, never a silent miss. Queries run in
/// parallel, one chunk per core; recall is the graph's (ef defaults to `efDefault`).
public struct HNSWNeighborSearch: NeighborSearch {
    /// Candidate list size for scan queries: recall@10 ≥ 0.95 on S1/S2 at ef 64 (hnsw_compare).
    public static let efDefault = 64

    public let index: HNSWIndex
    public let ef: Int
    public var name: String { "hnsw" }
    public var isExact: Bool { false }

    public init(index: HNSWIndex, ef: Int = efDefault) {
        self.index = index
        self.ef = ef
    }

    /// Builds a graph over `matrix` with row numbers as labels.
    public static func build(_ matrix: Matrix, metric: Metric, ef: Int = efDefault) throws(EngineError) -> HNSWNeighborSearch {
        do {
            let index = try HNSWIndex(parameters: HNSWParameters(dimension: matrix.dimension, metric: metric),
                                      capacity: max(1, matrix.rows))
            try index.add(matrix, labels: (0..<matrix.rows).map(UInt64.init))
            return HNSWNeighborSearch(index: index, ef: ef)
        } catch {
            throw EngineError(.indexFailed, "building the scan's HNSW graph: \(error.message)")
        }
    }

    public func search(queries: Matrix, k: Int) throws(HubScanError) -> KNNResult {
        let start = DispatchTime.now().uptimeNanoseconds
        let q = queries.rows
        let chunks = max(1, min(q, ProcessInfo.processInfo.activeProcessorCount * 4))
        let results = ChunkResults(count: chunks)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            var hits: [[Neighbor]] = []
            var failure: String?
            for row in stride(from: chunk, to: q, by: chunks) {
                do {
                    let found = try queries.withUnsafeRows { rows in
                        try index.search(UnsafeBufferPointer(start: rows + row * queries.dimension, count: queries.dimension),
                                         k: k, ef: max(ef, k))
                    }
                    hits.append(found.map { Neighbor(id: $0.label < UInt64(UInt32.max) ? UInt32($0.label) : .max,
                                                     distance: $0.distance) })
                } catch {
                    failure = (error as? HNSWError)?.message ?? "\(error)"
                    break
                }
            }
            results.set(chunk, hits: hits, failure: failure)
        }
        if let failure = results.failure { throw HubScanError(.invalidParameter, "hnsw scan search: \(failure)") }
        var neighbors = [Neighbor](repeating: Neighbor(id: .max, distance: .infinity), count: q * k)
        var counts = [Int](repeating: 0, count: q)
        for row in 0..<q {
            let found = results.hits(forRow: row, chunks: chunks).prefix(k)
            for (i, hit) in found.enumerated() { neighbors[row * k + i] = hit }
            counts[row] = found.count
        }
        return KNNResult(k: k, neighbors: neighbors, counts: counts,
                         seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, gflops: 0)
    }
}

/// Per-chunk answers written by concurrent workers (each chunk by one worker only).
private final class ChunkResults: @unchecked Sendable {
    private var hits: [[[Neighbor]]]
    private var failures: [String?]
    private let lock = NSLock()

    init(count: Int) {
        hits = Array(repeating: [], count: count)
        failures = Array(repeating: nil, count: count)
    }

    func set(_ chunk: Int, hits chunkHits: [[Neighbor]], failure: String?) {
        lock.withLock {
            hits[chunk] = chunkHits
            failures[chunk] = failure
        }
    }

    var failure: String? { lock.withLock { failures.compactMap { $0 }.first } }

    /// Row `row` was the `row / chunks`-th query of chunk `row % chunks`.
    func hits(forRow row: Int, chunks: Int) -> [Neighbor] {
        lock.withLock { hits[row % chunks][row / chunks] }
    }
}
