import VectorMath

/// One search result: the document's label, internal id and BM25 score.
public struct LexicalHit: Sendable, Equatable {
    public let label: UInt64
    public let document: UInt32
    public let score: Float
}

/// The hits of one query, best first (ties: earlier document first), with the analysed
/// query terms and, when there are no hits for a reason the caller can act on, that reason.
public struct LexicalResult: Sendable, Equatable {
    public enum EmptyReason: String, Sendable {
        case emptyQuery = "empty_query"
        case onlyStopWords = "only_stop_words"
        case noMatchingTerms = "no_matching_terms"
        case emptyIndex = "empty_index"
    }

    public var hits: [LexicalHit]
    public var terms: [String]
    public var emptyReason: EmptyReason?
}

/// A query term that occurs in the index, with what MaxScore needs to know about it.
struct QueryTerm {
    let term: String
    let list: Int
    let queryCount: Int
    /// idf · (k1 + 1) · queryCount.
    let weight: Float
    /// The best score this term can add to any document (from the list's max tf, min length).
    let bound: Float
}

extension LexicalIndex {
    /// The top `k` live, allowed documents for `query` by BM25.
    ///
    /// `filter` admits documents by internal id (see `filter(allowing:)`); ids at or beyond
    /// its capacity are not admitted, so a filter built before later additions never leaks
    /// them. An excluded document is skipped before it is scored: it can neither appear
    /// nor push an allowed document out of the top k.
    public func search(_ query: String, k: Int, filter: IDBitset? = nil) throws(LexicalError) -> LexicalResult {
        guard query.utf8.count <= Self.queryBytesMax else {
            throw LexicalError(.queryTooLong, "query has \(query.utf8.count) bytes; the limit is \(Self.queryBytesMax)")
        }
        guard k >= 1, k <= Self.kMax else {
            throw LexicalError(.invalidK, "k must be in 1...\(Self.kMax), got \(k)")
        }
        var tokens = 0
        var analysed: [String] = []
        analyzer.forEachToken(query) { token in
            tokens += 1
            if let term = analyzer.term(forToken: token) { analysed.append(term) }
        }
        var result = LexicalResult(hits: [], terms: analysed, emptyReason: nil)
        if tokens == 0 { result.emptyReason = .emptyQuery; return result }
        if analysed.isEmpty { result.emptyReason = .onlyStopWords; return result }
        if liveCount == 0 { result.emptyReason = .emptyIndex; return result }
        let scorer = BM25Scorer(parameters: parameters, documents: liveCount, totalLength: totalLiveLength)
        let plan = queryPlan(analysed, scorer: scorer)
        if plan.isEmpty { result.emptyReason = .noMatchingTerms; return result }
        result.hits = topK(plan, k: k, scorer: scorer, filter: filter)
        return result
    }

    /// `search` for UTF-8 bytes from the wire: invalid UTF-8 is a typed error.
    public func search(utf8 query: some Collection<UInt8>, k: Int, filter: IDBitset? = nil) throws(LexicalError)
        -> LexicalResult {
        guard query.count <= Self.queryBytesMax else {
            throw LexicalError(.queryTooLong, "query has \(query.count) bytes; the limit is \(Self.queryBytesMax)")
        }
        guard let text = String(validating: query, as: UTF8.self) else {
            throw LexicalError(.invalidUTF8, "query is not valid UTF-8")
        }
        return try search(text, k: k, filter: filter)
    }

    /// The distinct query terms present in the index, sorted by score bound, smallest first.
    func queryPlan(_ analysed: [String], scorer: BM25Scorer) -> [QueryTerm] {
        var counts: [String: Int] = [:]
        for term in analysed { counts[term, default: 0] += 1 }
        var plan: [QueryTerm] = []
        for (term, count) in counts {
            guard let id = termIDs[term], postings[Int(id)].documentFrequency > 0 else { continue }
            let list = postings[Int(id)]
            let weight = scorer.idf(documentFrequency: list.documentFrequency) * (parameters.k1 + 1) * Float(count)
            // Inflated by 1e-5 so that a sum of bounds is never below a sum of scores
            // added in another order (float addition is not associative).
            let bound = scorer.score(weight: weight, frequency: list.maxFrequency, length: list.minLength) * 1.00001
            plan.append(QueryTerm(term: term, list: Int(id), queryCount: count, weight: weight, bound: bound))
        }
        return plan.sorted { ($0.bound, $0.list) < ($1.bound, $1.list) }
    }
}
