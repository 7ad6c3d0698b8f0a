import VectorMath

/// An inverted index over one text field, searched with BM25.
///
/// Documents get dense internal ids in insertion order (posting lists are appended in id
/// order); callers name documents by 64-bit labels. A delete takes effect at once: the
/// document is never returned again, and the collection statistics (N, df, average length)
/// drop it immediately, so scores equal those of an index that never held it. Its postings
/// stay until the index is rebuilt from a snapshot.
public final class LexicalIndex: @unchecked Sendable {
    /// Documents one index can hold (internal ids are UInt32; `UInt32.max` marks "none").
    public static let documentsMax = Int(UInt32.max - 1)
    /// A document's text above this size is refused, not truncated.
    public static let documentBytesMax = 16 << 20
    /// A query above this size is refused (`query_too_long`) before it is analysed.
    public static let queryBytesMax = 64 << 10
    /// Results one search may return.
    public static let kMax = 10_000
    /// Token → term memo used while adding documents; cleared when it grows past this.
    static let tokenMemoEntriesMax = 1 << 20

    public let analyzer: Analyzer
    public let parameters: BM25Parameters

    var termIDs: [String: UInt32] = [:]
    var terms: [String] = []
    var postings: [PostingList] = []
    var lengths: [UInt32] = []
    var labels: [UInt64] = []
    var labelToDocument: [UInt64: UInt32] = [:]
    var deletedWords: [UInt64] = []
    /// Forward index: the distinct term ids of document d are
    /// `documentTerms[documentTermStarts[d]..<documentTermStarts[d + 1]]` (for deletes).
    var documentTermStarts: [Int] = [0]
    var documentTerms: [UInt32] = []
    var tokenMemo: [String: UInt32] = [:]

    public internal(set) var liveCount = 0
    var totalLiveLength: UInt64 = 0

    public init(analyzer: AnalyzerConfiguration = .english, parameters: BM25Parameters = BM25Parameters())
        throws(LexicalError) {
        self.analyzer = Analyzer(analyzer)
        self.parameters = try parameters.validated()
    }

    /// A copy that no later change to `other` touches (a snapshot's frozen view). Its arrays
    /// share storage with `other` until either changes (copy on write), so it is O(1) now and
    /// the live index pays the copy on its next mutation. The caller keeps writers out.
    public init(copying other: LexicalIndex) {
        analyzer = other.analyzer
        parameters = other.parameters
        termIDs = other.termIDs
        terms = other.terms
        postings = other.postings
        lengths = other.lengths
        labels = other.labels
        labelToDocument = other.labelToDocument
        deletedWords = other.deletedWords
        documentTermStarts = other.documentTermStarts
        documentTerms = other.documentTerms
        tokenMemo = other.tokenMemo
        liveCount = other.liveCount
        totalLiveLength = other.totalLiveLength
    }

    /// Documents ever added, deleted ones included (the internal id space).
    public var documentCount: Int { lengths.count }
    public var termCount: Int { terms.count }
    public var averageDocumentLength: Double {
        liveCount == 0 ? 0 : Double(totalLiveLength) / Double(liveCount)
    }

    public func contains(label: UInt64) -> Bool { labelToDocument[label] != nil }
    public func label(ofDocument document: UInt32) -> UInt64 { labels[Int(document)] }
    public func document(forLabel label: UInt64) -> UInt32? { labelToDocument[label] }
    /// Labels of the documents not deleted, in document order.
    public var liveLabels: [UInt64] { (0..<UInt32(lengths.count)).filter { !isDeleted($0) }.map { labels[Int($0)] } }

    func isDeleted(_ document: UInt32) -> Bool {
        deletedWords[Int(document >> 6)] & (1 << UInt64(document & 63)) != 0
    }

    // MARK: Mutations

    /// Adds one document. Refuses a label already present or an oversized text; nothing
    /// changes on error.
    public func add(label: UInt64, text: String) throws(LexicalError) {
        try validate(label: label, text: text)
        append(label: label, terms: termIDs(of: text))
        checkInvariants()
    }

    /// Adds a batch, all or nothing: every label and text is checked before the first change.
    public func add(_ documents: [(label: UInt64, text: String)]) throws(LexicalError) {
        var seen = Set<UInt64>()
        for document in documents {
            try validate(label: document.label, text: document.text)
            guard seen.insert(document.label).inserted else {
                throw LexicalError(.duplicateLabel, "label \(document.label) appears twice in the batch")
            }
        }
        guard lengths.count + documents.count <= Self.documentsMax else {
            throw LexicalError(.capacityExceeded, "the index holds at most \(Self.documentsMax) documents")
        }
        for document in documents { append(label: document.label, terms: termIDs(of: document.text)) }
        checkInvariants()
    }

    /// Deletes a document: it is never returned again and leaves the statistics at once.
    public func delete(label: UInt64) throws(LexicalError) {
        guard let document = labelToDocument.removeValue(forKey: label) else {
            throw LexicalError(.unknownLabel, "no document with label \(label)")
        }
        let d = Int(document)
        deletedWords[d >> 6] |= 1 << UInt64(d & 63)
        for term in documentTerms[documentTermStarts[d]..<documentTermStarts[d + 1]] {
            postings[Int(term)].documentFrequency -= 1
        }
        liveCount -= 1
        totalLiveLength -= UInt64(lengths[d])
        checkInvariants()
    }

    private func validate(label: UInt64, text: String) throws(LexicalError) {
        guard labelToDocument[label] == nil else {
            throw LexicalError(.duplicateLabel, "label \(label) is already in the index")
        }
        guard text.utf8.count <= Self.documentBytesMax else {
            throw LexicalError(.documentTooLong, "document \(label) has \(text.utf8.count) bytes; the limit is \(Self.documentBytesMax)")
        }
        guard lengths.count < Self.documentsMax else {
            throw LexicalError(.capacityExceeded, "the index holds at most \(Self.documentsMax) documents")
        }
    }

    /// The term ids of `text` in order, creating ids for new terms.
    private func termIDs(of text: String) -> [UInt32] {
        var ids: [UInt32] = []
        analyzer.forEachToken(text) { token in
            if let id = tokenMemo[token] {
                if id != UInt32.max { ids.append(id) }
                return
            }
            if tokenMemo.count >= Self.tokenMemoEntriesMax { tokenMemo.removeAll(keepingCapacity: true) }
            guard let term = analyzer.term(forToken: token) else {
                tokenMemo[token] = UInt32.max  // a stop word
                return
            }
            let id = termID(creating: term)
            tokenMemo[token] = id
            ids.append(id)
        }
        return ids
    }

    func termID(creating term: String) -> UInt32 {
        if let id = termIDs[term] { return id }
        let id = UInt32(terms.count)
        termIDs[term] = id
        terms.append(term)
        postings.append(PostingList())
        return id
    }

    /// Appends a document whose terms are already ids. The length is the number of terms
    /// after stop words (as bm25s and Lucene count it).
    func append(label: UInt64, terms ids: [UInt32]) {
        let document = UInt32(lengths.count)
        let length = UInt32(ids.count)
        lengths.append(length)
        labels.append(label)
        labelToDocument[label] = document
        if lengths.count > deletedWords.count * 64 { deletedWords.append(0) }
        var sorted = ids
        sorted.sort()
        var i = 0
        while i < sorted.count {
            var j = i + 1
            while j < sorted.count, sorted[j] == sorted[i] { j += 1 }
            let term = Int(sorted[i])
            postings[term].append(document: document, frequency: UInt32(j - i), length: length)
            postings[term].documentFrequency += 1
            documentTerms.append(sorted[i])
            i = j
        }
        documentTermStarts.append(documentTerms.count)
        liveCount += 1
        totalLiveLength += UInt64(length)
    }

    /// An allow-filter admitting exactly `labels` (tenant-style). Unknown labels are ignored.
    public func filter(allowing labels: some Sequence<UInt64>) -> IDBitset {
        var bits = IDBitset(capacity: max(documentCount, 1), filled: false)
        for label in labels { if let d = labelToDocument[label] { bits.insert(Int(d)) } }
        return bits
    }

    /// An allow-filter admitting every current document except `labels` (quarantine-style).
    public func filter(excluding labels: some Sequence<UInt64>) -> IDBitset {
        var bits = IDBitset(capacity: max(documentCount, 1), filled: true)
        for label in labels { if let d = labelToDocument[label] { bits.remove(Int(d)) } }
        return bits
    }

    @inline(__always)
    func checkInvariants() {
        #if DEBUG || FIREBREAK_INVARIANTS
        if let problem = integrityProblem() { preconditionFailure("Lexical invariant broken: \(problem)") }
        #endif
    }
}
