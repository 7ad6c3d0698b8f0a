extension LexicalIndex {
    /// Why document `label` scores what it does for `query`: per matched term its idf, tf,
    /// length norm and contribution, as incident evidence records it. The total equals the
    /// score `search` reports for the same document (up to float summation order).
    public func explain(label: UInt64, query: String) throws(LexicalError) -> ScoreExplanation {
        guard let document = labelToDocument[label] else {
            throw LexicalError(.unknownLabel, "no document with label \(label)")
        }
        guard query.utf8.count <= Self.queryBytesMax else {
            throw LexicalError(.queryTooLong, "query has \(query.utf8.count) bytes; the limit is \(Self.queryBytesMax)")
        }
        let scorer = BM25Scorer(parameters: parameters, documents: liveCount, totalLength: totalLiveLength)
        let length = lengths[Int(document)]
        var explanation = ScoreExplanation(
            label: label, score: 0, documents: liveCount, documentLength: Int(length),
            averageDocumentLength: scorer.averageLength, parameters: parameters, terms: [])
        let buffers = UnsafeMutablePointer<UInt32>.allocate(capacity: 2 * PostingList.blockPostings)
        defer { buffers.deallocate() }
        for term in queryPlan(analyzer.terms(query), scorer: scorer).sorted(by: { $0.term < $1.term }) {
            var cursor = PostingCursor(list: postings[term.list], buffers: buffers)
            cursor.advance(to: document)
            guard cursor.document == document else { continue }
            let df = postings[term.list].documentFrequency
            let score = scorer.score(weight: term.weight, frequency: cursor.frequency, length: length)
            explanation.terms.append(ScoreExplanation.Term(
                term: term.term, queryCount: term.queryCount, documentFrequency: df,
                idf: scorer.idf(documentFrequency: df), termFrequency: Int(cursor.frequency),
                lengthNorm: scorer.lengthNorm(length: length), score: score))
            explanation.score += score
        }
        return explanation
    }
}
