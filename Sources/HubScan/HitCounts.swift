import VectorMath

/// How often each document appears in the sampled queries' top-k, three ways, plus what the
/// explanations and the spread detector need. Built from one exact search of the sample.
public struct HitCounts: Sendable {
    public let k: Int
    /// Plain count of top-k appearances per document.
    public private(set) var counts: [Double]
    /// Σ 1/(rank+1) over appearances (rank 0 = nearest): a top-1 hit weighs 1, a 10th 0.1.
    public private(set) var rankWeighted: [Double]
    /// Σ similarity over appearances (1 − distance for inner product / cosine; 1/(1+d) for L2).
    public private(set) var similarityWeighted: [Double]
    /// Up to `examplesMax` query rows that retrieved each document.
    public private(set) var examples: [[Int]]
    /// Per sampled query, the distance of its k-th neighbour (the ingest screen's bar).
    public private(set) var kthDistance: [Float]
    /// Per sampled query, its top-k distances in rank order (`q * k + rank`; infinity where
    /// it has fewer): the rank a new vector would take.
    public private(set) var topDistances: [Float]
    /// Per sampled query, its top-k rows in rank order (`q * k + rank`; -1 where it has fewer):
    /// what the stability detector compares a perturbed query's answer with.
    public private(set) var topRows: [Int32]
    /// Per document, a bit per topic cluster (≤ 64) of the queries that retrieved it.
    public private(set) var clusterMasks: [UInt64]

    public static let clustersMax = 64

    public static let examplesMax = 5

    /// Expected rank-weighted hits per document if retrieval were uniform (the chance level).
    public var chanceRankWeighted: Double {
        let perQuery = (0..<k).reduce(0.0) { $0 + 1 / Double($1 + 1) }
        return Double(kthDistance.count) * perQuery / Double(max(1, counts.count))
    }

    /// Distinct topic clusters among the queries that retrieved each document.
    public var clustersReached: [Double] { clusterMasks.map { Double($0.nonzeroBitCount) } }

    /// Expected plain hits per document under uniform retrieval: queries × k / documents.
    public var chanceCounts: Double { Double(kthDistance.count * k) / Double(max(1, counts.count)) }

    /// Searches the sample (k + 1 so a document query can drop itself; exactly unless another
    /// `search` is given) and accumulates.
    /// `queryClusters` gives each sampled query's topic cluster (< `clustersMax`), for spread.
    public init(sample: QuerySample, embeddings: Matrix, k: Int, metric: Metric,
                queryClusters: [Int]? = nil, search: (any NeighborSearch)? = nil) throws(HubScanError) {
        precondition(queryClusters.map { $0.count == sample.vectors.rows } ?? true, "one cluster per query")
        let searcher = search ?? ExactNeighborSearch(base: embeddings, metric: metric)
        let result = try searcher.search(queries: sample.vectors, k: min(k + 1, embeddings.rows))
        guard result.queryCount == sample.vectors.rows,
              result.neighbors.allSatisfy({ $0.id == UInt32.max || Int($0.id) < embeddings.rows }) else {
            throw HubScanError(.invalidParameter, "\(searcher.name) search returned rows outside the scanned collection")
        }
        self.k = k
        let n = embeddings.rows
        counts = Array(repeating: 0, count: n)
        rankWeighted = Array(repeating: 0, count: n)
        similarityWeighted = Array(repeating: 0, count: n)
        examples = Array(repeating: [], count: n)
        clusterMasks = Array(repeating: 0, count: n)
        kthDistance = Array(repeating: .infinity, count: sample.vectors.rows)
        topDistances = Array(repeating: .infinity, count: sample.vectors.rows * k)
        topRows = Array(repeating: -1, count: sample.vectors.rows * k)
        for q in 0..<sample.vectors.rows {
            let own = sample.sourceRows[q]
            let neighbors = result.neighbors(ofQuery: q).filter { Int($0.id) != own }.prefix(k)
            for (rank, neighbor) in neighbors.enumerated() {
                record(Int(neighbor.id), query: q, rank: rank, distance: neighbor.distance, metric: metric)
                topDistances[q * k + rank] = neighbor.distance
                topRows[q * k + rank] = Int32(neighbor.id)
                if let cluster = queryClusters?[q] { clusterMasks[Int(neighbor.id)] |= 1 << UInt64(cluster % Self.clustersMax) }
            }
            if neighbors.count == k { kthDistance[q] = neighbors.last!.distance }
        }
    }

    /// Rank-weighted hits counted over sampled queries `queries` only (e.g. the real ones).
    public func rankWeighted(over queries: Range<Int>) -> [Double] {
        var weighted = [Double](repeating: 0, count: counts.count)
        for q in queries {
            for rank in 0..<k {
                let row = topRows[q * k + rank]
                if row >= 0 { weighted[Int(row)] += 1 / Double(rank + 1) }
            }
        }
        return weighted
    }

    private mutating func record(_ document: Int, query: Int, rank: Int, distance: Float, metric: Metric) {
        counts[document] += 1
        rankWeighted[document] += 1 / Double(rank + 1)
        similarityWeighted[document] += metric == .l2 ? 1 / (1 + Double(distance)) : 1 - Double(distance)
        if examples[document].count < Self.examplesMax { examples[document].append(query) }
    }
}
