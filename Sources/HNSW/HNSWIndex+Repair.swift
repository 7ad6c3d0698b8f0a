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
    /// A batch at least this fraction of the index, or of at least `fullRepairBatchMin` rows,
    /// gets the full reachability walk; smaller batches repair only the nodes whose level-0
    /// in-degree fell to zero (O(suspects), so a single insert does not pay an O(n · M) walk).
    /// Suspects alone miss islands: groups of nodes that still link to each other but that
    /// nothing outside them links to. The walk is cheap beside inserting the batch (a few ms at
    /// 100k nodes), so batch ingestion always pays it.
    static let fullRepairBatchFraction = 16
    static let fullRepairBatchMin = 64

    /// Reconnects nodes that pruning left without a path from the entry point on level 0.
    ///
    /// The heuristic may drop a node's last inbound link when a full neighbour list is shrunk
    /// (about 0.1 % of nodes on clustered data); such a node can never be returned. Each orphan
    /// is linked from its closest reachable node that has room, or else replaces a neighbour
    /// that other nodes also reach. Runs single-threaded under the caller's exclusive access.
    func repairOrphans(batchSize: Int, suspects: [UInt32]) {
        guard let top = loadTop(), count > 1 else { return }
        if batchSize >= Self.fullRepairBatchMin || batchSize * Self.fullRepairBatchFraction >= count {
            repairByFullWalk(top: top)
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

    private func repairByFullWalk(top: (entry: UInt32, level: Int)) {
        let view = storage.view
        recountInDegrees()
        var reached = [Bool](repeating: false, count: count)
        mark(from: top.entry, reached: &reached, view: view)
        scratchPool.withScratch(nodeCount: count) { scratch in
            for node in 0..<count where !reached[node] {
                let orphan = UInt32(node)
                guard let parent = closestParent(for: orphan, top: top, scratch: scratch, view: view,
                                                 isReachable: { reached[Int($0)] }) else { continue }
                adopt(orphan, by: parent, view: view)
                mark(from: orphan, reached: &reached, view: view)
            }
        }
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
                guard let parent = closestParent(for: orphan, top: top, scratch: scratch, view: view,
                                                 isReachable: isReachable) else { continue }
                adopt(orphan, by: parent, view: view)
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

    /// The closest reachable node to `orphan`, found by a level-0 search from the entry point.
    private func closestParent(for orphan: UInt32, top: (entry: UInt32, level: Int), scratch: SearchScratch,
                               view: GraphView, isReachable: (UInt32) -> Bool) -> UInt32? {
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
        var best: UInt32?
        while !scratch.results.isEmpty {
            let item = scratch.results.pop()
            if item.id != orphan && isReachable(item.id) { best = item.id }
        }
        return best
    }

    /// Adds `orphan` to `parent`'s level-0 list, evicting (if full) the neighbour with the most
    /// inbound links, which stays reachable through the others.
    private func adopt(_ orphan: UInt32, by parent: UInt32, view: GraphView) {
        let list = view.links(parent, level: 0)
        let degree = Int(list[0])
        if degree < view.m0 {
            list[1 + degree] = orphan
            list[0] = UInt32(degree + 1)
        } else {
            var slot = 1
            for i in 1...degree where view.inDegrees[Int(list[i])] > view.inDegrees[Int(list[slot])] { slot = i }
            guard view.inDegrees[Int(list[slot])] > 1 else { return }
            view.inDegrees[Int(list[slot])] -= 1
            list[slot] = orphan
        }
        view.inDegrees[Int(orphan)] += 1
    }
}
