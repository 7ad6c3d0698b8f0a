import CFirebreakSupport
import Dispatch
import Foundation
import VectorMath

extension HNSWIndex {
    /// Progress of a long build: nodes inserted so far and the batch size.
    public typealias Progress = @Sendable (_ inserted: Int, _ total: Int) -> Void

    /// Inserts a batch of vectors named by `labels`, building on `threads` cores.
    ///
    /// All-or-nothing: every row is validated (dimension, NaN/Inf, zero cosine vectors,
    /// duplicate labels within the batch or against the index) before anything is written,
    /// so a rejected batch leaves the index exactly as it was.
    public func add(_ vectors: Matrix, labels: [UInt64], threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                    progress: Progress? = nil) throws(HNSWError) {
        var batch = try stage(vectors, labels: labels)
        link(&batch, threads: threads, progress: progress)
        publish(batch)
    }

    // MARK: Staged adds: linked while searches run, served from one moment on
    //
    // `add` in three steps, so that the slow one can run while the index serves:
    // - `stage` (exclusive access) validates the batch and places its nodes, tombstoned: they
    //   are traversed like deleted nodes, never returned, and not counted as live;
    // - `link` links them into the graph. It may run while searches do (they then read
    //   neighbour lists under each node's lock, as the build workers do), but alongside no other
    //   change to the index: no other stage, delete, save or copy;
    // - `publish` (exclusive access) lifts the tombstones at once: the whole batch is served from
    //   then on. `abandon` instead leaves the nodes deleted (a batch whose write failed).

    /// A batch placed by `stage`: what `link`, then `publish` or `abandon`, finish.
    public struct StagedBatch: Sendable {
        public let ids: Range<Int>
        let entryBefore: UInt32?
        var linked = false
        var suspects: [UInt32] = []
    }

    /// Validates and places a batch whose nodes nothing returns until `publish`. Needs
    /// exclusive access; at most one batch is staged at a time.
    public func stage(_ vectors: Matrix, labels: [UInt64]) throws(HNSWError) -> StagedBatch {
        precondition(stagedBatches == 0, "one staged batch at a time: publish or abandon the last one first")
        let prepared = try validatedBatch(vectors, labels: labels)
        let first = count
        let n = prepared.rows
        storage.reserve(first + n, count: first)
        prepared.withUnsafeRows { rows in
            for i in 0..<n { placeNode(id: first + i, vector: rows + i * parameters.dimension, label: labels[i]) }
        }
        for id in first..<(first + n) { setTombstone(UInt32(id), true) }
        count = first + n
        deletedCount += n
        stagedBatches += 1
        return StagedBatch(ids: first..<(first + n), entryBefore: loadTop()?.entry)
    }

    /// Links a staged batch into the graph on `threads` cores. Searches may run meanwhile; no
    /// other change to the index may.
    public func link(_ batch: inout StagedBatch, threads: Int, progress: Progress? = nil) {
        precondition(!batch.linked, "a staged batch is linked once")
        batch.suspects = batch.ids.isEmpty ? [] : insertNodes(batch.ids, threads: max(1, threads), progress: progress)
        batch.linked = true
    }

    /// Serves a linked batch: its tombstones are lifted together. Needs exclusive access.
    public func publish(_ batch: StagedBatch) {
        precondition(batch.linked, "a staged batch is linked before it is published")
        for id in batch.ids { setTombstone(UInt32(id), false) }
        deletedCount -= batch.ids.count
        finish(batch)
    }

    /// Leaves a staged batch's nodes deleted: they are never served, and their labels stay
    /// taken, as a deleted node's do. A batch not linked yet is linked first (on one core), so
    /// that, like every deleted node, its nodes stay reachable. Needs exclusive access.
    public func abandon(_ batch: StagedBatch) {
        var batch = batch
        if !batch.linked { link(&batch, threads: 1) }
        finish(batch)
    }

    private func finish(_ batch: StagedBatch) {
        precondition(batch.linked && stagedBatches == 1 && batch.ids.upperBound <= count, "the batch is the one staged")
        stagedBatches = 0
        guard !batch.ids.isEmpty else { return }
        repairOrphans(batchSize: batch.ids.count, suspects: batch.suspects, entryMoved: loadTop()?.entry != batch.entryBefore)
        debugCheckIntegrity()
    }

    private func setTombstone(_ id: UInt32, _ deleted: Bool) {
        let word = storage.deletedWords + Int(id) / 64
        let bit = UInt64(1) << UInt64(id % 64)
        if deleted { word.pointee |= bit } else { word.pointee &= ~bit }
    }

    /// Inserts one vector. Same validation and guarantees as the batch form.
    public func add(_ vector: [Float], label: UInt64) throws(HNSWError) {
        let matrix: Matrix
        do { matrix = try Matrix(rows: 1, dimension: vector.count, storage: vector) } catch {
            throw HNSWError(.dimensionMismatch, "expected \(parameters.dimension) components, got \(vector.count)")
        }
        try add(matrix, labels: [label], threads: 1)
    }

    /// Validates a batch and returns it prepared for the metric (unit length for cosine).
    private func validatedBatch(_ vectors: Matrix, labels: [UInt64]) throws(HNSWError) -> Matrix {
        guard vectors.dimension == parameters.dimension else {
            throw HNSWError(.dimensionMismatch,
                            "index has dimension \(parameters.dimension), vectors have \(vectors.dimension)")
        }
        guard labels.count == vectors.rows else {
            throw HNSWError(.invalidParameter, "\(vectors.rows) vectors but \(labels.count) labels")
        }
        guard count + vectors.rows <= HNSWParameters.countMax else {
            throw HNSWError(.capacityExceeded, "index would exceed \(HNSWParameters.countMax) vectors")
        }
        if let row = vectors.firstNonFiniteRow() {
            throw HNSWError(.nonFiniteValue, "vector \(row) (label \(labels[row])) contains NaN or infinity")
        }
        var seen = Set<UInt64>(minimumCapacity: labels.count)
        for label in labels {
            guard labelToID[label] == nil, seen.insert(label).inserted else {
                throw HNSWError(.duplicateLabel, "label \(label) is already in the index or repeated in the batch")
            }
        }
        var prepared = vectors
        if parameters.metric == .cosine {
            do { try prepared.normalizeRows() } catch {
                throw HNSWError(.zeroVector, "\(error.message); cosine needs a direction")
            }
        }
        return prepared
    }

    /// Writes a node's vector, label and level; links come later in `insert`.
    private func placeNode(id: Int, vector: UnsafePointer<Float>, label: UInt64) {
        let view = storage.view
        view.vector(UInt32(id)).update(from: vector, count: parameters.dimension)
        view.links(UInt32(id), level: 0)[0] = 0
        let level = randomLevel()
        storage.levels[id] = UInt8(level)
        storage.labels[id] = label
        storage.allocateUpperLinks(node: id, level: level)
        labelToID[label] = UInt32(id)
    }

    /// Links nodes into the graph: the very first alone (it becomes the entry point), the rest
    /// claimed one at a time by `threads` workers, as hnswlib's parallel add does.
    /// Returns the nodes that lost a level-0 inbound link meanwhile (orphan suspects).
    private func insertNodes(_ ids: Range<Int>, threads: Int, progress: Progress?) -> [UInt32] {
        let dropped = DroppedCollector()
        var next = Int64(ids.lowerBound)
        if loadTop() == nil {
            storeTop(entry: UInt32(next), level: Int(storage.levels[ids.lowerBound]))
            next += 1
        }
        let progressEvery = max(1, ids.count / 100)
        withUnsafeMutablePointer(to: &next) { counterPointer in
            let counter = SharedCounter(pointer: counterPointer)
            let workers = min(threads, max(1, ids.count))
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                scratchPool.withScratch(nodeCount: storage.capacity) { scratch in
                    while true {
                        let id = Int(fb_fetch_add(counter.pointer, 1))
                        if id >= ids.upperBound { break }
                        insert(UInt32(id), scratch: scratch)
                        let done = id - ids.lowerBound + 1
                        if let progress, done % progressEvery == 0 { progress(done, ids.count) }
                    }
                    dropped.append(scratch.dropped)
                    scratch.dropped.removeAll(keepingCapacity: true)
                }
            }
        }
        progress?(ids.count, ids.count)
        return dropped.ids
    }

    /// Links one placed node into every level up to its own (Algorithm 1 of the paper).
    private func insert(_ node: UInt32, scratch: SearchScratch) {
        let view = storage.view
        let level = Int(storage.levels[Int(node)])
        var holdsTopLock = false
        if level > loadTop()!.level {
            fb_spin_lock(topLock)
            holdsTopLock = true
        }
        defer { if holdsTopLock { fb_spin_unlock(topLock) } }
        var (entry, top) = loadTop()!
        let query = UnsafePointer(view.vector(node))
        var entryDistance = distance(query, entry, view)
        if level < top {
            for layer in stride(from: top, to: level, by: -1) {
                greedyStep(query, entry: &entry, distance: &entryDistance, level: layer,
                           scratch: scratch, locked: true, view: view)
            }
        }
        for layer in stride(from: min(level, top), through: 0, by: -1) {
            searchLayer(query, entry: entry, entryDistance: entryDistance, ef: parameters.efConstruction,
                        level: layer, scratch: scratch, mode: .build, view: view)
            let closest = connect(node, level: layer, scratch: scratch, view: view)
            entry = closest.id
            entryDistance = closest.distance
        }
        if holdsTopLock && level > top { storeTop(entry: node, level: level) }
    }
}

/// The work counter shared by build workers (mutated only through atomics).
struct SharedCounter: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int64>
}
