import CFirebreakSupport
import Dispatch
import Foundation

/// The k nearest rows of a base matrix for every row of a query matrix, closest first.
/// Storage is flat: query `q` owns `neighbors[q*k ..< q*k + counts[q]]`.
public struct KNNResult: Sendable {
    public let k: Int
    public let neighbors: [Neighbor]
    public let counts: [Int]
    /// Wall time of the search and the sgemm work rate it reached (2·q·n·d flops / seconds).
    public let seconds: Double
    public let gflops: Double

    public var queryCount: Int { counts.count }

    /// A result assembled elsewhere (an approximate index): `neighbors` holds k slots per query,
    /// the first `counts[q]` of query q filled, closest first.
    public init(k: Int, neighbors: [Neighbor], counts: [Int], seconds: Double, gflops: Double) {
        precondition(neighbors.count == k * counts.count && counts.allSatisfy { $0 >= 0 && $0 <= k }, "k slots per query")
        self.k = k
        self.neighbors = neighbors
        self.counts = counts
        self.seconds = seconds
        self.gflops = gflops
    }

    public func neighbors(ofQuery q: Int) -> ArraySlice<Neighbor> {
        neighbors[(q * k)..<(q * k + counts[q])]
    }
}

/// Batched exact k-NN: query tiles × base tiles through `cblas_sgemm`, per-row top-k selection
/// straight out of each score tile, one worker per core. Memory is bounded by
/// `workers × queryTileRows × baseTileRows` floats of scores, never queries × base.
public enum ExactSearch {
    /// Query rows per tile (one worker owns a query tile at a time).
    public static let queryTileRows = 256
    /// Base rows per sgemm call; 256 × 1024 floats = 1 MiB of scores per worker.
    public static let baseTileRows = 1024
    /// The largest k exact search accepts; larger asks are a caller bug or an attack.
    public static let kMax = 10_000

    /// Searches `base` for the `k` nearest rows of every query. Vectors must already be prepared
    /// for the metric (unit length for cosine). Rows not in `allowed` are never returned; a query
    /// gets fewer than k results only when fewer than k rows are allowed.
    public static func search(queries: Matrix, base: Matrix, k: Int, metric: Metric,
                              allowed: IDBitset? = nil,
                              threads: Int = ProcessInfo.processInfo.activeProcessorCount)
        throws(VectorMathError) -> KNNResult
    {
        guard queries.dimension == base.dimension else {
            throw VectorMathError(.dimensionMismatch,
                                  "queries have dimension \(queries.dimension), base has \(base.dimension)")
        }
        guard k >= 1, k <= kMax else {
            throw VectorMathError(.invalidArgument, "k must be in 1...\(kMax) (got \(k))")
        }
        if let allowed, allowed.capacity != base.rows {
            throw VectorMathError(.invalidArgument,
                                  "allow-filter covers \(allowed.capacity) ids, base has \(base.rows) rows")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let job = Job(queries: queries, base: base, k: k, metric: metric, allowed: allowed)
        let result = job.run(threads: max(1, threads))
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let flops = 2 * Double(queries.rows) * Double(base.rows) * Double(base.dimension)
        return KNNResult(k: k, neighbors: result.neighbors, counts: result.counts,
                         seconds: seconds, gflops: seconds > 0 ? flops / seconds / 1e9 : 0)
    }
}

/// One exact search: shared read-only inputs, disjoint per-tile outputs.
private struct Job {
    let queries: Matrix
    let base: Matrix
    let k: Int
    let metric: Metric
    let allowed: IDBitset?

    func run(threads: Int) -> (neighbors: [Neighbor], counts: [Int]) {
        let q = queries.rows
        let queryTile = tileRows(threads: threads)
        let tileCount = (q + queryTile - 1) / queryTile
        var neighbors = [Neighbor](repeating: Neighbor(id: UInt32.max, distance: .infinity), count: q * k)
        var counts = [Int](repeating: 0, count: q)
        guard q > 0, base.rows > 0 else { return (neighbors, counts) }
        let baseNorms = squaredNorms(base)
        let queryNorms = squaredNorms(queries)
        BLAS.useCallerParallelism()
        let workers = min(threads, tileCount)
        neighbors.withUnsafeMutableBufferPointer { outNeighbors in
            counts.withUnsafeMutableBufferPointer { outCounts in
                let output = Output(neighbors: outNeighbors.baseAddress!, counts: outCounts.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    let scores = UnsafeMutablePointer<Float>.allocate(capacity: queryTile * ExactSearch.baseTileRows)
                    defer { scores.deallocate() }
                    var tile = worker
                    while tile < tileCount {
                        let first = tile * queryTile
                        searchTile(firstQuery: first, rows: min(queryTile, q - first), scores: scores,
                                   baseNorms: baseNorms, queryNorms: queryNorms, output: output)
                        tile += workers
                    }
                }
            }
        }
        return (neighbors, counts)
    }

    /// Smaller query tiles when there are few queries, so every core still gets work.
    private func tileRows(threads: Int) -> Int {
        let perWorker = (queries.rows + threads - 1) / threads
        return max(16, min(ExactSearch.queryTileRows, perWorker))
    }

    private func squaredNorms(_ m: Matrix) -> [Float] {
        guard metric == .l2 else { return [] }
        var norms = [Float](repeating: 0, count: m.rows)
        m.withUnsafeRows { rows in
            norms.withUnsafeMutableBufferPointer {
                Kernels.squaredNorms(rows, count: m.rows, dimension: m.dimension, into: $0.baseAddress!)
            }
        }
        return norms
    }

    private func searchTile(firstQuery: Int, rows: Int, scores: UnsafeMutablePointer<Float>,
                            baseNorms: [Float], queryNorms: [Float], output: Output) {
        let d = base.dimension
        let heapStorage = output.neighbors + firstQuery * k
        var heaps = (0..<rows).map { TopKHeap(storage: heapStorage + $0 * k, capacity: k) }
        let hits = UnsafeMutablePointer<UInt32>.allocate(capacity: RowSelector.blockRows)
        defer { hits.deallocate() }
        queries.withUnsafeRows { queryRows in
            base.withUnsafeRows { baseRows in
                var firstBase = 0
                while firstBase < base.rows {
                    let n = min(ExactSearch.baseTileRows, base.rows - firstBase)
                    BLAS.dotProducts(queryRows + firstQuery * d, rowsA: rows, baseRows + firstBase * d,
                                     rowsB: n, dimension: d, into: scores)
                    for r in 0..<rows {
                        select(row: scores + r * n, count: n, firstBase: firstBase,
                               queryNorm: queryNorms.isEmpty ? 0 : queryNorms[firstQuery + r],
                               baseNorms: baseNorms, heap: &heaps[r], hits: hits)
                    }
                    firstBase += n
                }
            }
        }
        for r in 0..<rows {
            let sorted = heaps[r].sorted()
            for (i, neighbor) in sorted.enumerated() { heapStorage[r * k + i] = neighbor }
            output.counts[firstQuery + r] = sorted.count
        }
    }

    /// Offers one score row to a heap, skipping disallowed ids and anything not beating the
    /// current k-th distance.
    @inline(__always)
    private func select(row: UnsafeMutablePointer<Float>, count n: Int, firstBase: Int, queryNorm: Float,
                        baseNorms: [Float], heap: inout TopKHeap, hits: UnsafeMutablePointer<UInt32>) {
        baseNorms.withUnsafeBufferPointer { norms in
            let tileNorms = metric == .l2 ? norms.baseAddress! + firstBase : nil
            if let allowed {
                allowed.withView { view in
                    RowSelector.scan(row, n, firstBase: firstBase, queryNorm: queryNorm, norms: tileNorms,
                                     allowed: view, heap: &heap, hits: hits)
                }
            } else {
                RowSelector.scan(row, n, firstBase: firstBase, queryNorm: queryNorm, norms: tileNorms,
                                 allowed: nil, heap: &heap, hits: hits)
            }
        }
    }
}

/// Per-row top-k selection out of a score tile.
///
/// Ranks by `key`: ‖b‖² − 2q·b for L2 (‖q‖² is constant along the row, so distance =
/// ‖q‖² + key), −q·b for inner product and cosine (distance = 1 + key). A vectorised C scan
/// (`fb_scan_below`) finds the few positions below the current k-th key in blocks of 512;
/// only those are offered to the heap.
enum RowSelector {
    static let blockRows = 512

    @inline(__always)
    static func scan(_ row: UnsafePointer<Float>, _ n: Int, firstBase: Int, queryNorm: Float,
                     norms: UnsafePointer<Float>?, allowed: IDBitsetView?, heap: inout TopKHeap,
                     hits: UnsafeMutablePointer<UInt32>) {
        let isL2 = norms != nil
        let offset: Float = isL2 ? queryNorm : 1
        var start = 0
        while start < n {
            let width = min(blockRows, n - start)
            let found = fb_scan_below(row + start, norms.map { $0 + start }, width, heap.threshold - offset, hits)
            for i in 0..<found {
                let j = start + Int(hits[i])
                let key = isL2 ? norms![j] - 2 * row[j] : -row[j]
                // Rounding can make an L2 distance slightly negative: clamp it.
                let distance = isL2 ? max(0, offset + key) : offset + key
                guard distance < heap.threshold else { continue }
                let id = UInt32(firstBase + j)
                if let allowed, !allowed.contains(id) { continue }
                heap.offer(id: id, distance: distance)
            }
            start += width
        }
    }
}

/// Raw output pointers shared by workers; each worker writes only its own query tiles.
private struct Output: @unchecked Sendable {
    let neighbors: UnsafeMutablePointer<Neighbor>
    let counts: UnsafeMutablePointer<Int>
}
