/// Reciprocal-rank fusion (Cormack, Clarke & Büttcher, 2009): a document's fused score is
/// `Σ 1 / (constant + rank)` over the lists it appears in (rank starting at 1). It needs no
/// score calibration between a vector list and a BM25 list, which is why hybrid search uses it.
public enum RankFusion {
    public static let defaultConstant = 60

    public struct Fused: Sendable, Equatable {
        public let label: UInt64
        public let score: Double
        /// The 1-based rank in each input list, nil where the label is absent.
        public let ranks: [Int?]
    }

    /// Fuses ranked label lists (best first) into the top `k`. Ties break by the best single
    /// rank, then by label, so the output is deterministic. A label repeated within one list
    /// counts at its first rank only.
    public static func reciprocalRank(_ lists: [[UInt64]], k: Int, constant: Int = defaultConstant) -> [Fused] {
        precondition(constant >= 0 && k >= 0, "constant and k are validated by the caller")
        var ranks: [UInt64: [Int?]] = [:]
        for (listIndex, list) in lists.enumerated() {
            for (position, label) in list.enumerated() {
                var entry = ranks[label] ?? Array(repeating: nil, count: lists.count)
                if entry[listIndex] == nil { entry[listIndex] = position + 1 }
                ranks[label] = entry
            }
        }
        let fused = ranks.map { label, ranks in
            Fused(label: label, score: ranks.reduce(0) { $0 + ($1.map { 1 / Double(constant + $0) } ?? 0) }, ranks: ranks)
        }
        return fused.sorted { a, b in
            if a.score != b.score { return a.score > b.score }
            let bestA = a.ranks.compactMap { $0 }.min()!, bestB = b.ranks.compactMap { $0 }.min()!
            return bestA != bestB ? bestA < bestB : a.label < b.label
        }.prefix(k).map { $0 }
    }
}
