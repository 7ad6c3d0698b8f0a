import CFirebreakSupport
import VectorMath

/// How a layer search treats nodes: during a build, neighbour lists are read under the node's
/// lock and every node may be a result; during a query, nothing is locked and only allowed,
/// live nodes become results (the rest are still traversed, for connectivity).
struct LayerMode {
    let locked: Bool
    let filter: IDBitsetView?
    let skipDeleted: Bool

    static var build: LayerMode { LayerMode(locked: true, filter: nil, skipDeleted: false) }

    @inline(__always)
    func isReturnable(_ id: UInt32, _ view: GraphView) -> Bool {
        if skipDeleted && view.isDeleted(id) { return false }
        if let filter { return filter.contains(id) }
        return true
    }
}

extension HNSWIndex {
    /// Greedy descent on one upper level: moves `entry` to its closest neighbour until none is
    /// closer to the query.
    @inline(__always)
    func greedyStep(_ query: UnsafePointer<Float>, entry: inout UInt32, distance entryDistance: inout Float,
                    level: Int, scratch: SearchScratch, locked: Bool, view: GraphView) {
        let buffer = scratch.neighborBuffer
        var changed = true
        while changed {
            changed = false
            let degree = view.copyNeighbors(entry, level: level, into: buffer, locked: locked)
            for i in 0..<degree {
                let candidate = buffer[i]
                let d = distance(query, candidate, view)
                if d < entryDistance {
                    entryDistance = d
                    entry = candidate
                    changed = true
                }
            }
        }
    }

    /// Best-first search of one level (Algorithm 2 of the paper), leaving up to `ef` results in
    /// `scratch.results` (a max-heap, farthest on top). Candidates are explored until the
    /// closest unexplored one is farther than the farthest of `ef` returnable results, so a
    /// filter widens the search by itself: excluded nodes never fill the result set.
    func searchLayer(_ query: UnsafePointer<Float>, entry: UInt32, entryDistance: Float, ef: Int, level: Int,
                     scratch: SearchScratch, mode: LayerMode, view: GraphView) {
        scratch.beginSearch(nodeCount: count)
        _ = scratch.visit(entry)
        var lowerBound = Float.infinity
        if mode.isReturnable(entry, view) {
            scratch.results.push(entryDistance, entry)
            lowerBound = entryDistance
        }
        scratch.candidates.push(-entryDistance, entry)
        let buffer = scratch.neighborBuffer
        while !scratch.candidates.isEmpty {
            let current = scratch.candidates.top
            if -current.distance > lowerBound && scratch.results.count >= ef { break }
            scratch.candidates.pop()
            let degree = view.copyNeighbors(current.id, level: level, into: buffer, locked: mode.locked)
            // Keep only unvisited neighbours.
            var fresh = 0
            for i in 0..<degree where scratch.visit(buffer[i]) {
                buffer[fresh] = buffer[i]
                fresh &+= 1
            }
            // Prefetch two vectors ahead: their lines arrive while this distance is computed.
            // A whole list's vectors at once (24 lines each at 384-d) queue more misses than the
            // core can track, and the prefetches themselves stall (15 % of search cycles).
            for i in 0..<min(fresh, 2) { view.prefetchVector(buffer[i]) }
            for i in 0..<fresh {
                let neighbor = buffer[i]
                if i &+ 2 < fresh { view.prefetchVector(buffer[i &+ 2]) }
                let d = distance(query, neighbor, view)
                guard scratch.results.count < ef || d < lowerBound else { continue }
                scratch.candidates.push(-d, neighbor)
                if mode.isReturnable(neighbor, view) {
                    scratch.results.push(d, neighbor)
                    if scratch.results.count > ef { scratch.results.pop() }
                }
                if !scratch.results.isEmpty { lowerBound = scratch.results.top.distance }
            }
            if !scratch.candidates.isEmpty { view.prefetchRecord(scratch.candidates.top.id) }
        }
    }

    /// Links `node` at `level` to the heuristic choice among `scratch.results`, and each chosen
    /// neighbour back to `node` (shrinking its list with the same heuristic when full).
    /// Returns the closest candidate, the entry point for the next level down.
    func connect(_ node: UInt32, level: Int, scratch: SearchScratch,
                 view: GraphView) -> (distance: Float, id: UInt32) {
        scratch.pending.removeAll(keepingCapacity: true)
        while !scratch.results.isEmpty {
            let item = scratch.results.pop()
            if item.id != node { scratch.pending.append(item) }
        }
        scratch.pending.reverse()
        precondition(!scratch.pending.isEmpty, "a layer search always finds its entry point")
        let closest = scratch.pending[0]
        selectNeighbors(from: scratch.pending, max: parameters.m, into: &scratch.selected, view: view)

        let own = view.links(node, level: level)
        fb_spin_lock(view.locks + Int(node))
        own[0] = UInt32(scratch.selected.count)
        for (i, neighbor) in scratch.selected.enumerated() { own[1 + i] = neighbor.id }
        fb_spin_unlock(view.locks + Int(node))
        if level == 0 { for neighbor in scratch.selected { view.addInDegree(neighbor.id, 1) } }

        for neighbor in scratch.selected {
            linkBack(neighbor.id, to: node, distance: neighbor.distance, level: level, scratch: scratch, view: view)
        }
        return closest
    }

    /// Adds `node` to `target`'s list at `level`; when the list is full, keeps the heuristic
    /// choice among the old neighbours plus `node`. On level 0 it keeps in-degrees current and
    /// records every node that lost this inbound link in `scratch.dropped`.
    private func linkBack(_ target: UInt32, to node: UInt32, distance: Float, level: Int,
                          scratch: SearchScratch, view: GraphView) {
        let list = view.links(target, level: level)
        let maxDegree = view.maxDegree(level: level)
        fb_spin_lock(view.locks + Int(target))
        defer { fb_spin_unlock(view.locks + Int(target)) }
        let degree = Int(list[0])
        if degree < maxDegree {
            list[1 + degree] = node
            list[0] = UInt32(degree + 1)
            if level == 0 { view.addInDegree(node, 1) }
            return
        }
        scratch.pending.removeAll(keepingCapacity: true)
        scratch.pending.append((distance, node))
        let targetVector = UnsafePointer(view.vector(target))
        for i in 0..<degree {
            let other = list[1 + i]
            scratch.pending.append((self.distance(targetVector, other, view), other))
        }
        scratch.pending.sort { $0.distance < $1.distance }
        selectNeighbors(from: scratch.pending, max: maxDegree, into: &scratch.kept, view: view)
        list[0] = UInt32(scratch.kept.count)
        for (i, item) in scratch.kept.enumerated() { list[1 + i] = item.id }
        guard level == 0 else { return }
        for candidate in scratch.pending {
            let isKept = scratch.kept.contains { $0.id == candidate.id }
            if candidate.id == node {
                if isKept { view.addInDegree(node, 1) } else { scratch.dropped.append(node) }
            } else if !isKept {
                view.addInDegree(candidate.id, -1)
                scratch.dropped.append(candidate.id)
            }
        }
    }

    /// Vectors this close (l2 or cosine) are copies of each other: a neighbour list keeps one.
    static let copyDistanceMax: Float = 1e-6

    /// The neighbour-selection heuristic (Algorithm 4): walking candidates closest first, keep
    /// one only if it is closer to the base than to every neighbour already kept, and no copy
    /// of one. This spreads links across directions and keeps clustered data navigable.
    /// `candidates` must be sorted by distance to the base, ascending.
    func selectNeighbors(from candidates: [(distance: Float, id: UInt32)], max maxCount: Int,
                         into selected: inout [(distance: Float, id: UInt32)], view: GraphView) {
        selected.removeAll(keepingCapacity: true)
        if candidates.count <= maxCount {
            selected.append(contentsOf: candidates)
            return
        }
        let metric = parameters.metric
        let dimension = view.dimension
        // Inner-product "distances" are not 0 between copies (nor only between them).
        let copyDistanceMax = metric == .innerProduct ? -Float.infinity : Self.copyDistanceMax
        for candidate in candidates {
            if selected.count >= maxCount { break }
            let vector = UnsafePointer(view.vector(candidate.id))
            var keep = true
            for chosen in selected {
                let between = metric.distance(vector, view.vector(chosen.id), dimension: dimension)
                // Closer to a chosen neighbour than to the node, or a copy of one: a list of
                // copies would trap every search that enters it.
                if between < candidate.distance || between <= copyDistanceMax {
                    keep = false
                    break
                }
            }
            if keep { selected.append(candidate) }
        }
    }
}
