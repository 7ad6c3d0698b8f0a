import VectorMath

extension LexicalIndex {
    /// Document-at-a-time top-k with MaxScore pruning (Turtle & Flood, 1995).
    ///
    /// Terms are sorted by their score bound. Once the heap holds k documents with a worst
    /// score θ, the longest prefix of terms whose bounds sum to ≤ θ is "non-essential": a
    /// document containing only those terms cannot beat θ, so candidates come only from the
    /// essential lists, and the non-essential lists are merely probed (skipping whole
    /// blocks) for the candidates, best bound first, stopping as soon as the score plus the
    /// remaining bounds cannot beat θ. Results equal exhaustive scoring (tests check it).
    func topK(_ plan: [QueryTerm], k: Int, scorer: BM25Scorer, filter: IDBitset?) -> [LexicalHit] {
        let buffers = UnsafeMutablePointer<UInt32>.allocate(capacity: 2 * PostingList.blockPostings * plan.count)
        defer { buffers.deallocate() }
        var cursors = plan.indices.map {
            PostingCursor(list: postings[plan[$0].list], buffers: buffers + 2 * PostingList.blockPostings * $0)
        }
        // prefixBound[i]: the most terms 0...i can add together.
        var prefixBound = [Float](repeating: 0, count: plan.count)
        var sum: Float = 0
        for i in plan.indices {
            sum += plan[i].bound
            prefixBound[i] = sum
        }
        let weights = plan.map(\.weight)
        var heap = ScoreHeap(capacity: k)
        var firstEssential = 0
        let allowed = AllowCheck(filter: filter, deletedWords: deletedWords, documentCount: documentCount)

        lengths.withUnsafeBufferPointer { lengths in
            while firstEssential < plan.count {
                var candidate = PostingCursor.exhausted
                for i in firstEssential..<plan.count { candidate = min(candidate, cursors[i].document) }
                if candidate == PostingCursor.exhausted { break }
                guard allowed.contains(candidate) else {
                    for i in firstEssential..<plan.count where cursors[i].document == candidate { cursors[i].next() }
                    continue
                }
                let length = lengths[Int(candidate)]
                var score: Float = 0
                for i in firstEssential..<plan.count where cursors[i].document == candidate {
                    score += scorer.score(weight: weights[i], frequency: cursors[i].frequency, length: length)
                    cursors[i].next()
                }
                var i = firstEssential - 1
                while i >= 0, score + prefixBound[i] > heap.threshold {
                    cursors[i].advance(to: candidate)
                    if cursors[i].document == candidate {
                        score += scorer.score(weight: weights[i], frequency: cursors[i].frequency, length: length)
                    }
                    i -= 1
                }
                if i < 0, heap.offer(document: candidate, score: score) {
                    while firstEssential < plan.count, prefixBound[firstEssential] <= heap.threshold {
                        firstEssential += 1
                    }
                }
            }
        }
        return heap.sortedBestFirst().map { LexicalHit(label: labels[Int($0.document)], document: $0.document, score: $0.score) }
    }
}

/// Live and admitted by the caller's filter (ids beyond the filter's capacity are not).
struct AllowCheck {
    let filter: IDBitset?
    let deletedWords: [UInt64]
    let documentCount: Int

    @inline(__always)
    func contains(_ document: UInt32) -> Bool {
        if deletedWords[Int(document >> 6)] & (1 << UInt64(document & 63)) != 0 { return false }
        guard let filter else { return true }
        return Int(document) < filter.capacity && filter.contains(Int(document))
    }
}

/// The k best (document, score) pairs seen so far; the root is the worst of them.
/// Better means a higher score, or an equal score and a smaller id (found earlier).
struct ScoreHeap {
    struct Entry { var document: UInt32; var score: Float }

    let capacity: Int
    private var entries: [Entry] = []

    init(capacity: Int) {
        self.capacity = capacity
        entries.reserveCapacity(capacity)
    }

    /// A document must score strictly above this to enter (−∞ until the heap is full).
    var threshold: Float { entries.count == capacity ? entries[0].score : -.infinity }

    private static func worse(_ a: Entry, _ b: Entry) -> Bool {
        a.score < b.score || (a.score == b.score && a.document > b.document)
    }

    /// Offers a document (ids arrive in increasing order). Returns true if it entered.
    mutating func offer(document: UInt32, score: Float) -> Bool {
        let entry = Entry(document: document, score: score)
        if entries.count < capacity {
            entries.append(entry)
            siftUp(entries.count - 1)
            return true
        }
        guard score > entries[0].score else { return false }
        entries[0] = entry
        siftDown(0)
        return true
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.worse(entries[child], entries[parent]) else { return }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            var worst = parent
            let left = 2 * parent + 1
            let right = left + 1
            if left < entries.count, Self.worse(entries[left], entries[worst]) { worst = left }
            if right < entries.count, Self.worse(entries[right], entries[worst]) { worst = right }
            if worst == parent { return }
            entries.swapAt(parent, worst)
            parent = worst
        }
    }

    func sortedBestFirst() -> [Entry] {
        entries.sorted { Self.worse($1, $0) }
    }
}
