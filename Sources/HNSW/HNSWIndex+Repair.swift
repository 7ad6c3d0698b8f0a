import CFirebreakSupport

extension HNSWIndex {
    /// Reconnects nodes that pruning left without a path from the entry point on level 0.
    ///
    /// The heuristic may drop a node's last inbound link when a full neighbour list is shrunk
    /// (about 0.1 % of nodes on clustered data); such a node can never be returned. After each
    /// batch this pass finds them (one O(n · M) walk) and links each to its closest reachable
    /// node that has room, or else replaces a neighbour that other nodes also reach.
    /// Runs single-threaded under the caller's exclusive access.
    func repairReachability() {
        guard let top = loadTop(), count > 1 else { return }
        let view = storage.view
        var reached = [Bool](repeating: false, count: count)
        var inDegree = [Int32](repeating: 0, count: count)
        for node in 0..<count {
            let list = view.links(UInt32(node), level: 0)
            for i in 0..<Int(list[0]) { inDegree[Int(list[1 + i])] += 1 }
        }
        mark(from: top.entry, reached: &reached, view: view)
        scratchPool.withScratch(nodeCount: count) { scratch in
            for node in 0..<count where !reached[node] {
                let orphan = UInt32(node)
                guard let parent = closestReachable(to: orphan, top: top, reached: reached,
                                                    scratch: scratch, view: view) else { continue }
                adopt(orphan, by: parent, inDegree: &inDegree, view: view)
                mark(from: orphan, reached: &reached, view: view)
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

    /// The closest reachable node to `orphan` that can take one more link (or whose list holds
    /// a neighbour with another inbound link), found by a level-0 search from the entry point.
    private func closestReachable(to orphan: UInt32, top: (entry: UInt32, level: Int), reached: [Bool],
                                  scratch: SearchScratch, view: GraphView) -> UInt32? {
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
        var best: (distance: Float, id: UInt32)?
        while !scratch.results.isEmpty {
            let item = scratch.results.pop()
            if item.id != orphan && reached[Int(item.id)] { best = item }
        }
        return best?.id
    }

    /// Adds `orphan` to `parent`'s level-0 list, evicting (if full) the neighbour with the most
    /// inbound links, which stays reachable through the others.
    private func adopt(_ orphan: UInt32, by parent: UInt32, inDegree: inout [Int32], view: GraphView) {
        let list = view.links(parent, level: 0)
        let degree = Int(list[0])
        if degree < view.m0 {
            list[1 + degree] = orphan
            list[0] = UInt32(degree + 1)
        } else {
            var slot = 1
            for i in 1...degree where inDegree[Int(list[i])] > inDegree[Int(list[slot])] { slot = i }
            guard inDegree[Int(list[slot])] > 1 else { return }
            inDegree[Int(list[slot])] -= 1
            list[slot] = orphan
        }
        inDegree[Int(orphan)] += 1
    }
}
