import VectorMath

/// Groups of near-identical documents (a swarm of near-copies, or honest mirrors), found from
/// the top-k lists a scan already has: two documents are candidates only when one sampled
/// query retrieved both, and they join when their cosine is at least `cosineMin`. No
/// all-pairs pass: at most queries × k(k−1)/2 candidate pairs, each checked once.
///
/// Why it matters: 25 near-copies of one hub split every nearby query's top-k between them,
/// so each alone is retrieved by a fraction of the queries the swarm captures and looks
/// ordinary. Scored as one unit (a query counts once, at its best-ranked member) the swarm is
/// the hub it copies. A group is suspicious for the queries it captures together, never for
/// being a group: honest duplicates capture the same queries, so their union scores no more
/// than the better of them.
///
/// Linkage is not single: two groups join only when their first members are alike as well, so
/// a group's members are all within about twice the bound of each other (on the dev set,
/// single linkage chained 87 boilerplate VERSIONS passages into one group; a swarm's members
/// are all alike to each other, at cosine ≥ 0.976 for copies of a hub at 0.99).
///
/// "Alike" is cosine ≥ `cosineMin` for the cosine and inner-product metrics. For L2 a cosine
/// says little (a tight cluster far from the origin is all at cosine 0.99), so two vectors are
/// alike when as close, relative to the k-th neighbour distance of the query that retrieved
/// them, as unit vectors at that cosine: ‖a − b‖² ≤ 2 (1 − cosineMin) · d_k.
///
/// Invariants: `unitOf[row]` is the smallest row of the row's group (a document alone is its
/// own unit); every group in `groups` has two or more members.
public struct NearDuplicates: Sendable, Equatable {
    /// Vectors at least this alike (cosine, on any metric) are one group. Near-copies made by
    /// moving a hub to cosine 0.99 sit at ≈ 0.98 to each other; 0.95 leaves room for a looser
    /// swarm while staying far above honest neighbours (on the man-page dev set a passage's
    /// nearest other passage is at median cosine ≈ 0.8).
    public static let cosineMin: Float = 0.95
    /// Vectors at least this alike (on L2: as close, relative to d_k, as unit vectors at this
    /// cosine) are identical copies and are never grouped: the first of a
    /// set of identical vectors ranks first wherever any of them does, so it already carries
    /// the set's hits alone, as before grouping. Grouping mirrors made every honest mirror of a
    /// popular passage an alarm (the dev set's rpc(3) passage ×11: 24 clean documents flagged
    /// instead of 9; the TF-IDF text collection: 60 instead of 6).
    public static let identicalCosineMin: Float = 0.9999
    /// Candidate pairs checked at most (queries × k(k−1)/2 stays far below it in any scan).
    public static let pairsMax = 50_000_000

    /// Per document, its unit: the smallest row of its group, or itself.
    public let unitOf: [Int]
    /// Groups with two or more members, each sorted, ordered by their first row.
    public let groups: [[Int]]
    /// Per unit row, its group's size (1 for a document alone).
    private let sizes: [Int]

    /// No groups: every document its own unit.
    public init(rows: Int) {
        unitOf = Array(0..<rows)
        groups = []
        sizes = Array(repeating: 1, count: rows)
    }

    /// Finds the groups among the documents that `hits` retrieved together.
    public init(hits: HitCounts, embeddings: Matrix, metric: Metric) {
        self.init(topRows: hits.topRows, k: hits.k, kthDistance: hits.kthDistance, embeddings: embeddings, metric: metric)
    }

    /// The same from raw top-k lists (`q * k + rank`, -1 for none) and each query's k-th distance.
    init(topRows: [Int32], k: Int, kthDistance: [Float], embeddings: Matrix, metric: Metric) {
        precondition(k > 0 && topRows.count == kthDistance.count * k, "one whole top-k list per query")
        let alike = Alikeness(embeddings: embeddings, metric: metric)
        var parent = Array(0..<embeddings.rows)
        func root(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        var checked = Set<UInt64>()
        outer: for q in 0..<(topRows.count / k) {
            let list = topRows[(q * k)..<(q * k + k)].map(Int.init).filter { $0 >= 0 }
            for a in list.indices {
                for b in list.indices where b > a {
                    let (i, j) = (min(list[a], list[b]), max(list[a], list[b]))
                    guard root(i) != root(j), checked.insert(UInt64(i) << 32 | UInt64(j)).inserted else { continue }
                    if checked.count > Self.pairsMax { break outer }
                    // Two groups merge only when their first members are alike too: near-copies
                    // are all alike to each other, while a chain of boilerplate passages (each
                    // like the next, the ends at cosine 0.89) stays in pieces.
                    let (ri, rj) = (root(i), root(j))
                    if alike.rows(i, j, kthDistance: kthDistance[q]),
                       (ri == i && rj == j) || alike.rows(ri, rj, kthDistance: kthDistance[q]) {
                        parent[max(ri, rj)] = min(ri, rj)
                    }
                }
            }
        }
        unitOf = (0..<embeddings.rows).map(root)
        var members = [Int: [Int]]()
        for (row, unit) in unitOf.enumerated() { members[unit, default: []].append(row) }
        groups = members.values.filter { $0.count > 1 }.sorted { $0[0] < $1[0] }
        var sizes = Array(repeating: 1, count: embeddings.rows)
        for group in groups { sizes[group[0]] = group.count }
        self.sizes = sizes
    }

    /// Whether `row` shares its group with another document.
    public func isGrouped(_ row: Int) -> Bool { sizes[unitOf[row]] > 1 }

    /// How many documents `row`'s group has (1 alone).
    public func size(ofGroupOf row: Int) -> Int { sizes[unitOf[row]] }

    /// Per sampled query, the unit it stands inside and must not vote for: the unit of the
    /// document it was drawn from, or of its nearest document when that is at least
    /// `cosineMin` alike (a k-means centroid placed among a hundred mirrored passages is one of
    /// them, not a query they captured); nil otherwise. Real queries get the same rule.
    public func ownUnits(sample: QuerySample, hits: HitCounts, embeddings: Matrix, metric: Metric) -> [Int?] {
        let alike = Alikeness(embeddings: embeddings, metric: metric)
        return (0..<sample.vectors.rows).map { q -> Int? in
            if let source = sample.sourceRows[q] { return unitOf[source] }
            let nearest = Int(hits.topRows[q * hits.k])
            guard nearest >= 0 else { return nil }
            let inside = sample.vectors.withUnsafeRows { query in
                alike.query(query + q * sample.vectors.dimension, row: nearest, kthDistance: hits.kthDistance[q])
            }
            return inside ? unitOf[nearest] : nil
        }
    }

    /// The units (one row standing for each group and each document alone), ascending.
    public var units: [Int] { unitOf.indices.filter { unitOf[$0] == $0 } }

    /// Rank-weighted hits of every unit over `queries`: each query counts once per unit, at
    /// 1/(rank + 1) of its best-ranked member, and never for the unit it stands inside
    /// (`ownUnits`), as a document drawn as a query never counts for itself: a hundred mirrored
    /// boilerplate passages would otherwise capture each other's queries. Indexed by row; a
    /// row's value is its unit's.
    public func rankWeighted(topRows: [Int32], k: Int, own: [Int?], queries: Range<Int>) -> [Double] {
        var weighted = [Double](repeating: 0, count: unitOf.count)
        for q in queries {
            for (unit, rank) in bestRanks(topRows, k: k, query: q, own: own[q]) { weighted[unit] += 1 / Double(rank + 1) }
        }
        return unitOf.map { weighted[$0] }
    }

    /// Each unit's best rank in one query's top-k, leaving out the unit the query stands inside.
    /// A document alone appears at most once in a list, so only a group's members are checked
    /// against what was seen: O(k) for an ungrouped list, whatever k is (up to 1,000).
    func bestRanks(_ topRows: [Int32], k: Int, query q: Int, own: Int?) -> [(unit: Int, rank: Int)] {
        var seen: [(unit: Int, rank: Int)] = []
        for rank in 0..<k {
            let row = Int(topRows[q * k + rank])
            guard row >= 0 else { continue }
            let unit = unitOf[row]
            guard unit != own else { continue }
            if sizes[unit] > 1, seen.contains(where: { $0.unit == unit }) { continue }
            seen.append((unit, rank))
        }
        return seen
    }

    /// `values` at the units only: the distribution a robust summary is taken over, so a
    /// group counts once however many members it has.
    public func unitValues(_ values: [Double]) -> [Double] {
        precondition(values.count == unitOf.count, "one value per row")
        return units.map { values[$0] }
    }
}

/// Whether two vectors are near-identical (`NearDuplicates.cosineMin`, per metric).
private struct Alikeness {
    let embeddings: Matrix
    let metric: Metric
    let squaredNorms: [Float]

    init(embeddings: Matrix, metric: Metric) {
        self.embeddings = embeddings
        self.metric = metric
        let d = embeddings.dimension
        squaredNorms = embeddings.withUnsafeRows { base in (0..<embeddings.rows).map { Kernels.dot(base + $0 * d, base + $0 * d, d) } }
    }

    func rows(_ i: Int, _ j: Int, kthDistance: Float) -> Bool {
        let d = embeddings.dimension
        let dot = embeddings.withUnsafeRows { Kernels.dot($0 + i * d, $0 + j * d, d) }
        return alike(dot: dot, squaredNormA: squaredNorms[i], squaredNormB: squaredNorms[j], kthDistance: kthDistance)
    }

    func query(_ vector: UnsafePointer<Float>, row: Int, kthDistance: Float) -> Bool {
        let d = embeddings.dimension
        let dot = embeddings.withUnsafeRows { Kernels.dot(vector, $0 + row * d, d) }
        return alike(dot: dot, squaredNormA: Kernels.dot(vector, vector, d), squaredNormB: squaredNorms[row], kthDistance: kthDistance)
    }

    /// Alike, and not identical: identical vectors need no group (`NearDuplicates.identicalCosineMin`).
    private func alike(dot: Float, squaredNormA: Float, squaredNormB: Float, kthDistance: Float) -> Bool {
        switch metric {
        case .cosine, .innerProduct:
            let cosine = dot / max((squaredNormA * squaredNormB).squareRoot(), .leastNormalMagnitude)
            return cosine >= NearDuplicates.cosineMin && cosine < NearDuplicates.identicalCosineMin
        case .l2:
            guard kthDistance.isFinite else { return false }
            let squared = squaredNormA + squaredNormB - 2 * dot
            return squared <= 2 * (1 - NearDuplicates.cosineMin) * kthDistance
                && squared > 2 * (1 - NearDuplicates.identicalCosineMin) * kthDistance
        }
    }
}
