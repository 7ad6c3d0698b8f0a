import VectorMath

extension HNSWIndex {
    /// The largest k a search accepts.
    public static let kMax = 10_000
    /// Relative cost of the exact scan. The search scans the allowed set exactly when
    /// `allowed ≤ bias · ef · 2M / selectivity`, a rough count of the distances the graph
    /// computes to gather ef allowed hits. Measured on S1 (100k × 128, 90 % excluded): a graph
    /// search at ef = 24 beat a 10k-row scan 2×, so one graph distance is worth ~¼ of the
    /// naive estimate (the scan reads scattered 644-byte records, the graph search exits early).
    public static let exactScanBias = 0.25

    /// The `k` nearest live vectors to `query` among those `filter` allows (all when nil),
    /// closest first. Returns exactly `min(k, allowed live vectors)` hits: a selective filter
    /// widens the graph search, a very selective one switches to an exact scan of the allowed set,
    /// and a graph search that still comes back short is completed by the exact scan.
    ///
    /// - Parameter ef: candidate list size (default `parameters.efSearch`), raised to k.
    public func search(_ query: [Float], k: Int, ef: Int? = nil, filter: IDBitset? = nil) throws(HNSWError) -> [HNSWHit] {
        try query.withUnsafeBufferPointer { buffer throws(HNSWError) in
            try search(buffer, k: k, ef: ef, filter: filter)
        }
    }

    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int? = nil,
                       filter: IDBitset? = nil) throws(HNSWError) -> [HNSWHit] {
        try validateQuery(query, k: k, ef: ef)
        guard let top = loadTop() else { return [] }
        let efEffective = max(ef ?? parameters.efSearch, k)
        let view = storage.view
        if let filter {
            return filter.withView { filterView in
                run(query, k: k, ef: efEffective, top: top, filter: filterView, view: view)
            }
        }
        return run(query, k: k, ef: efEffective, top: top, filter: nil, view: view)
    }

    /// The exact `k` nearest live vectors `filter` allows, by scanning every node: no graph edge
    /// is followed, so a damaged or poisoned graph cannot change the answer. What a partition
    /// serves while its graph is rebuilt. The same validation and result order as `search`.
    public func exactSearch(_ query: [Float], k: Int, filter: IDBitset? = nil) throws(HNSWError) -> [HNSWHit] {
        try query.withUnsafeBufferPointer { buffer throws(HNSWError) in
            try validateQuery(buffer, k: k, ef: nil)
            guard count > 0 else { return [] }
            let view = storage.view
            let scan = { (filter: IDBitsetView?) -> [HNSWHit] in
                self.scratchPool.withScratch(nodeCount: self.count) { scratch in
                    self.exactScan(self.prepareQuery(buffer, into: scratch.query), k: k, filter: filter, view: view)
                }
            }
            guard let filter else { return scan(nil) }
            return filter.withView { scan($0) }
        }
    }

    private func validateQuery(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int?) throws(HNSWError) {
        guard query.count == parameters.dimension else {
            throw HNSWError(.dimensionMismatch, "index has dimension \(parameters.dimension), query has \(query.count)")
        }
        guard (1...Self.kMax).contains(k) else {
            throw HNSWError(.invalidK, "k must be in 1...\(Self.kMax) (got \(k))")
        }
        if let ef, !(1...HNSWParameters.efMax).contains(ef) {
            throw HNSWError(.invalidParameter, "ef must be in 1...\(HNSWParameters.efMax) (got \(ef))")
        }
        var squaredNorm: Float = 0
        for x in query {
            guard x.isFinite else { throw HNSWError(.nonFiniteValue, "query contains NaN or infinity") }
            squaredNorm += x * x
        }
        if parameters.metric == .cosine && !(squaredNorm > 0 && squaredNorm.isFinite) {
            throw HNSWError(.zeroVector, "a cosine query needs a non-zero, finite length")
        }
    }

    private func run(_ query: UnsafeBufferPointer<Float>, k: Int, ef: Int, top: (entry: UInt32, level: Int),
                     filter: IDBitsetView?, view: GraphView) -> [HNSWHit] {
        let allowed = allowedLiveCount(filter, view: view)
        guard allowed > 0 else { return [] }
        return scratchPool.withScratch(nodeCount: count) { scratch in
            let q = prepareQuery(query, into: scratch.query)
            if prefersExactScan(allowed: allowed, ef: ef) {
                return exactScan(q, k: k, filter: filter, view: view)
            }
            var entry = top.entry
            var entryDistance = distance(q, entry, view)
            let locked = stagedBatches > 0  // a batch may be linking: lists change under their locks
            for level in stride(from: top.level, to: 0, by: -1) {
                greedyStep(q, entry: &entry, distance: &entryDistance, level: level, scratch: scratch,
                           locked: locked, view: view)
            }
            let mode = LayerMode(locked: locked, filter: filter, skipDeleted: deletedCount > 0)
            searchLayer(q, entry: entry, entryDistance: entryDistance, ef: ef, level: 0, scratch: scratch,
                        mode: mode, view: view)
            let hits = drainResults(scratch, k: k)
            if hits.count < min(k, allowed) { return exactScan(q, k: k, filter: filter, view: view) }
            return hits
        }
    }

    /// Copies the query into scratch space, normalised for cosine.
    private func prepareQuery(_ query: UnsafeBufferPointer<Float>, into buffer: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        buffer.update(from: query.baseAddress!, count: query.count)
        if parameters.metric == .cosine {
            let inverse = 1 / Kernels.dot(buffer, buffer, query.count).squareRoot()
            for i in 0..<query.count { buffer[i] *= inverse }
        }
        return UnsafePointer(buffer)
    }

    /// Live ids the filter admits: a popcount over `filter ∧ ¬deleted`, 64 ids per step.
    func allowedLiveCount(_ filter: IDBitsetView?, view: GraphView) -> Int {
        guard let filter else { return liveCount }
        let graphWords = GraphStorage.wordCount(count)
        var total = 0
        for w in 0..<min(filter.wordCount, graphWords) {
            let bits = filter.words[w] & ~view.deletedWords[w] & Self.liveMask(word: w, count: count)
            total += bits.nonzeroBitCount
        }
        return total
    }

    /// The bits of word `w` that name existing nodes (all but the tail of the last word).
    @inline(__always)
    static func liveMask(word w: Int, count: Int) -> UInt64 {
        let remaining = count - w * 64
        return remaining >= 64 ? ~0 : (UInt64(1) << UInt64(remaining)) - 1
    }

    func prefersExactScan(allowed: Int, ef: Int) -> Bool {
        if allowed <= ef { return true }
        let selectivity = Double(allowed) / Double(max(1, liveCount))
        let graphCost = Self.exactScanBias * Double(ef * parameters.m0) / selectivity
        return Double(allowed) <= graphCost
    }

    private func drainResults(_ scratch: SearchScratch, k: Int) -> [HNSWHit] {
        while scratch.results.count > k { scratch.results.pop() }
        var hits = [HNSWHit]()
        hits.reserveCapacity(scratch.results.count)
        while !scratch.results.isEmpty {
            let item = scratch.results.pop()
            hits.append(HNSWHit(label: storage.labels[Int(item.id)], id: item.id, distance: item.distance))
        }
        hits.reverse()
        return hits
    }

    /// Exact k-NN over the allowed live ids: a sequential scan with the SIMD kernel.
    func exactScan(_ query: UnsafePointer<Float>, k: Int, filter: IDBitsetView?, view: GraphView) -> [HNSWHit] {
        let heapStorage = UnsafeMutablePointer<Neighbor>.allocate(capacity: k)
        defer { heapStorage.deallocate() }
        var heap = TopKHeap(storage: heapStorage, capacity: k)
        let words = GraphStorage.wordCount(count)
        for w in 0..<words {
            var bits = ~view.deletedWords[w] & Self.liveMask(word: w, count: count)
            if let filter { bits &= w < filter.wordCount ? filter.words[w] : 0 }
            while bits != 0 {
                let id = UInt32(w * 64 + bits.trailingZeroBitCount)
                bits &= bits - 1
                let d = distance(query, id, view)
                if d < heap.threshold { heap.offer(id: id, distance: d) }
            }
        }
        return heap.sorted().map { HNSWHit(label: storage.labels[Int($0.id)], id: $0.id, distance: $0.distance) }
    }
}
