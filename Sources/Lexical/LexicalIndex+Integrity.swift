extension LexicalIndex {
    /// The first broken invariant (see the module header), or nil. O(postings): run after
    /// every mutation in invariant builds and on every loaded file.
    public func integrityProblem() -> String? {
        let n = documentCount
        guard labels.count == n, documentTermStarts.count == n + 1, deletedWords.count * 64 >= n,
              terms.count == postings.count, termIDs.count == terms.count else {
            return "table sizes disagree"
        }
        var lengthSums = [UInt64](repeating: 0, count: n)
        for (term, list) in postings.enumerated() {
            var previous: Int64 = -1
            var live = 0
            var problem: String?
            list.forEachPosting { document, frequency in
                guard problem == nil else { return }
                if Int64(document) <= previous || Int(document) >= n || frequency == 0 {
                    problem = "term \(terms[term]): posting \(document) out of order or range"
                    return
                }
                previous = Int64(document)
                lengthSums[Int(document)] += UInt64(frequency)
                if !isDeleted(document) { live += 1 }
            }
            if let problem { return problem }
            if live != list.documentFrequency {
                return "term \(terms[term]): df \(list.documentFrequency), live postings \(live)"
            }
        }
        return statisticsProblem(lengthSums: lengthSums)
    }

    private func statisticsProblem(lengthSums: [UInt64]) -> String? {
        var live = 0
        var totalLength: UInt64 = 0
        for d in 0..<documentCount {
            if lengthSums[d] != UInt64(lengths[d]) {
                return "document \(d): length \(lengths[d]) but its tfs sum to \(lengthSums[d])"
            }
            guard !isDeleted(UInt32(d)) else { continue }
            live += 1
            totalLength += UInt64(lengths[d])
            if labelToDocument[labels[d]] != UInt32(d) { return "label \(labels[d]) does not map back to \(d)" }
        }
        if live != liveCount || totalLength != totalLiveLength {
            return "statistics say \(liveCount) live / \(totalLiveLength) tokens; counted \(live) / \(totalLength)"
        }
        if labelToDocument.count != live { return "\(labelToDocument.count) labels for \(live) live documents" }
        return nil
    }
}
