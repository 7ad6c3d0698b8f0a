import CFirebreakSupport
import Foundation

/// Collects orphan suspects from build workers.
final class DroppedCollector: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var ids: [UInt32] = []

    func append(_ more: [UInt32]) {
        lock.lock()
        ids.append(contentsOf: more)
        lock.unlock()
    }
}

extension HNSWIndex {
    /// When an insert walks the whole graph (O(n · M), a few ms at 100k nodes) to reconnect
    /// what pruning cut off, rather than only the nodes whose level-0 in-degree fell to zero
    /// (its "suspects"). Suspects alone miss islands: groups of nodes that still link to each
    /// other but that nothing reachable links to. They do happen: one vector ingested over and
    /// over, a document at a time, fills the copies' lists with copies, and once a copy is the
    /// entry point the rest of the graph is an island (`HNSWReachabilityTests`). So the walk runs
    /// - on every insert while the index holds at most `walkEveryInsertCountMax` nodes;
    /// - on a batch of `fullRepairBatchMin` rows or more, or of at least 1/`fullRepairBatchFraction`
    ///   of the index (batch ingestion always pays it; it is cheap beside the inserts);
    /// - when the insert moved the entry point;
    /// - once the nodes inserted since the last walk reach 1/`fullRepairBatchFraction` of the
    ///   index (amortised O(`fullRepairBatchFraction` · M) per insert).
    /// Above `walkEveryInsertCountMax` an island can therefore outlive a few single inserts
    /// (its nodes are missing from answers, never wrongly served) until the next walk.
    static let fullRepairBatchFraction = 16
    static let fullRepairBatchMin = 64
    static let walkEveryInsertCountMax = 100_000

    /// Reconnects nodes that pruning left without a path from the entry point on level 0.
    ///
    /// The heuristic may drop a node's last inbound link when a full neighbour list is shrunk
    /// (about 0.1 % of nodes on clustered data); such a node can never be returned. Each orphan
    /// is linked from its closest reachable node that has room, or else replaces a neighbour
    /// that other nodes also reach. Runs single-threaded under the caller's exclusive access.
    func repairOrphans(batchSize: Int, suspects: [UInt32], entryMoved: Bool) {
        guard let top = loadTop(), count > 1 else { return }
        insertedSinceFullWalk += batchSize
        let walks = count <= Self.walkEveryInsertCountMax || entryMoved || batchSize >= Self.fullRepairBatchMin
            || insertedSinceFullWalk * Self.fullRepairBatchFraction >= count
        if walks {
            repairByFullWalk(top: top)
            insertedSinceFullWalk = 0
        } else {
            repairSuspects(suspects, top: top)
        }
    }

    /// Recounts every level-0 in-degree from the lists (after a load or before a full walk).
    func recountInDegrees() {
        let view = storage.view
        view.inDegrees.update(repeating: 0, count: count)
        for node in 0..<count {
            let list = view.links(UInt32(node), level: 0)
            for i in 0..<Int(list[0]) { view.inDegrees[Int(list[1 + i])] += 1 }
        }
    }

    /// Walks from the entry point and links every unreached node from a reachable one, again
    /// until a walk reaches everything: an adoption into a full list evicts a neighbour, and an
    /// evicted node may have been reached only through that link (a later pass repairs it).
    private func repairByFullWalk(top: (entry: UInt32, level: Int)) {
        let view = storage.view
        recountInDegrees()
        for _ in 0..<Self.repairPassesMax {
            var reached = [Bool](repeating: false, count: count)
            mark(from: top.entry, reached: &reached, view: view)
            var adoptions = 0
            scratchPool.withScratch(nodeCount: count) { scratch in
                for node in 0..<count where !reached[node] {
                    let orphan = UInt32(node)
                    let parents = closestParents(for: orphan, top: top, scratch: scratch, view: view,
                                                 isReachable: { reached[Int($0)] })
                    guard adoptByRoom(orphan, parents: parents, reached: reached, view: view)
                            || parents.contains(where: { adopt(orphan, by: $0, evicting: true, view: view) }) else { continue }
                    adoptions += 1
                    mark(from: orphan, reached: &reached, view: view)
                }
            }
            if adoptions == 0 { return }
        }
    }

    /// Passes of the full walk before giving up (`integrityProblem` then names what is left).
    static let repairPassesMax = 8

    /// Links `orphan` from the closest of `parents` with room in its level-0 list, or else from
    /// any reached node with room; evicts nothing.
    private func adoptByRoom(_ orphan: UInt32, parents: [UInt32], reached: [Bool], view: GraphView) -> Bool {
        if parents.contains(where: { adopt(orphan, by: $0, evicting: false, view: view) }) { return true }
        return (0..<count).contains { reached[$0] && adopt(orphan, by: UInt32($0), evicting: false, view: view) }
    }

    /// Repairs only suspects whose in-degree is now zero; a node with an inbound link is
    /// taken as reachable (islands are caught by the next full walk and by `integrityProblem`).
    private func repairSuspects(_ suspects: [UInt32], top: (entry: UInt32, level: Int)) {
        let view = storage.view
        let orphans = Set(suspects).filter { $0 != top.entry && view.inDegrees[Int($0)] == 0 }
        guard !orphans.isEmpty else { return }
        scratchPool.withScratch(nodeCount: count) { scratch in
            for orphan in orphans.sorted() where view.inDegrees[Int(orphan)] == 0 {
                let isReachable = { (id: UInt32) in id == top.entry || view.inDegrees[Int(id)] > 0 }
                let parents = closestParents(for: orphan, top: top, scratch: scratch, view: view, isReachable: isReachable)
                _ = parents.contains { adopt(orphan, by: $0, evicting: false, view: view) }
                    || parents.contains { adopt(orphan, by: $0, evicting: true, view: view) }
            }
        }
    }

    /// Depth-first marking along level-0 links.
    private func mark(from start: UInt32, reached: inout [Bool], view: GraphView) {
        guard !reached[Int(start)] else { return }
        reached[Int(start)] = true
        var stack = [start]
        while let node = stack.popLast() {
            let list = view.links(node, level: 0)
            for i in 0..<Int(list[0]) where !reached[Int(list[1 + i])] {
                reached[Int(list[1 + i])] = true
                stack.append(list[1 + i])
            }
        }
    }

    /// Reachable nodes close to `orphan`, closest first, found by a level-0 search from the
    /// entry point.
    private func closestParents(for orphan: UInt32, top: (entry: UInt32, level: Int), scratch: SearchScratch,
                                view: GraphView, isReachable: (UInt32) -> Bool) -> [UInt32] {
        let query = UnsafePointer(view.vector(orphan))
        var entry = top.entry
        var entryDistance = distance(query, entry, view)
        for level in stride(from: top.level, to: 0, by: -1) {
            greedyStep(query, entry: &entry, distance: &entryDistance, level: level, scratch: scratch,
                       locked: false, view: view)
        }
        searchLayer(query, entry: entry, entryDistance: entryDistance, ef: parameters.efConstruction,
                    level: 0, scratch: scratch, mode: LayerMode(locked: false, filter: nil, skipDeleted: false),
                    view: view)
        var farthestFirst: [UInt32] = []
        while !scratch.results.isEmpty {
            let item = scratch.results.pop()
            if item.id != orphan && isReachable(item.id) { farthestFirst.append(item.id) }
        }
        return farthestFirst.reversed()
    }

    /// Adds `orphan` to `parent`'s level-0 list. A full list takes it only when `evicting`, in
    /// place of the neighbour with the most inbound links (most likely reachable through the
    /// others). False when the list is full and may not, or cannot, evict (every neighbour has
    /// a single inbound link: evicting one would orphan it).
    private func adopt(_ orphan: UInt32, by parent: UInt32, evicting: Bool, view: GraphView) -> Bool {
        let list = view.links(parent, level: 0)
        let degree = Int(list[0])
        if degree < view.m0 {
            list[1 + degree] = orphan
            list[0] = UInt32(degree + 1)
        } else {
            guard evicting else { return false }
            var slot = 1
            for i in 1...degree where view.inDegrees[Int(list[i])] > view.inDegrees[Int(list[slot])] { slot = i }
            guard view.inDegrees[Int(list[slot])] > 1 else { return false }
            view.inDegrees[Int(list[slot])] -= 1
            list[slot] = orphan
        }
        view.inDegrees[Int(orphan)] += 1
        return true
    }
}
