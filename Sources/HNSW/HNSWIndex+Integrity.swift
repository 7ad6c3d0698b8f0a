extension HNSWIndex {
    /// Walks the whole graph and returns the first violated invariant (see the module header),
    /// or nil. O(n · M); tests call it after every mutation, `load` before serving a file.
    public func integrityProblem() -> String? {
        if let problem = structuralProblem() { return problem }
        guard let top = loadTop() else { return nil }
        return reachabilityProblem(from: top.entry)
    }

    /// Every invariant but reachability: what a file must satisfy before it is even read as a
    /// graph. (Unreachable nodes make a sound graph incomplete, and `load` repairs them.)
    func structuralProblem() -> String? {
        guard count > 0 else {
            return loadTop() == nil ? nil : "an empty index has an entry point"
        }
        guard let top = loadTop() else { return "a non-empty index has no entry point" }
        guard Int(top.entry) < count else { return "entry point \(top.entry) is out of range 0..<\(count)" }
        guard Int(storage.levels[Int(top.entry)]) == top.level else {
            return "entry point \(top.entry) has level \(storage.levels[Int(top.entry)]), top level is \(top.level)"
        }
        if let problem = linkProblem(topLevel: top.level) { return problem }
        if let problem = inDegreeProblem() { return problem }
        return labelProblem()
    }

    private func linkProblem(topLevel: Int) -> String? {
        let view = storage.view
        for node in 0..<count {
            let level = Int(storage.levels[node])
            guard level <= topLevel else { return "node \(node) has level \(level) above the top level \(topLevel)" }
            guard level == 0 || storage.upperLinks[node] != nil else { return "node \(node) lacks its upper link lists" }
            for layer in 0...level {
                let list = view.links(UInt32(node), level: layer)
                let degree = Int(list[0])
                guard degree <= view.maxDegree(level: layer) else {
                    return "node \(node) has degree \(degree) at level \(layer), above \(view.maxDegree(level: layer))"
                }
                for i in 0..<degree {
                    let neighbor = Int(list[1 + i])
                    guard neighbor < count else { return "node \(node) links to \(neighbor), out of range 0..<\(count)" }
                    guard neighbor != node else { return "node \(node) links to itself at level \(layer)" }
                    guard Int(storage.levels[neighbor]) >= layer else {
                        return "node \(node) links at level \(layer) to \(neighbor), which only reaches level \(storage.levels[neighbor])"
                    }
                }
            }
        }
        return nil
    }

    /// The maintained level-0 in-degrees equal a fresh count.
    private func inDegreeProblem() -> String? {
        let view = storage.view
        var counted = [UInt32](repeating: 0, count: count)
        for node in 0..<count {
            let list = view.links(UInt32(node), level: 0)
            for i in 0..<Int(list[0]) { counted[Int(list[1 + i])] += 1 }
        }
        for node in 0..<count where counted[node] != view.inDegrees[node] {
            return "node \(node) has \(counted[node]) inbound links, \(view.inDegrees[node]) recorded"
        }
        return nil
    }

    private func labelProblem() -> String? {
        guard labelToID.count == count else { return "\(labelToID.count) labels mapped for \(count) nodes" }
        for node in 0..<count where labelToID[storage.labels[node]] != UInt32(node) {
            return "label \(storage.labels[node]) of node \(node) does not map back to it"
        }
        let deleted = (0..<count).reduce(0) { $0 + (storage.view.isDeleted(UInt32($1)) ? 1 : 0) }
        return deleted == deletedCount ? nil : "\(deleted) tombstones counted \(deletedCount)"
    }

    /// Every node must be reachable from the entry point on level 0, or search cannot find it.
    private func reachabilityProblem(from entry: UInt32) -> String? {
        let view = storage.view
        var seen = [Bool](repeating: false, count: count)
        var stack = [entry]
        seen[Int(entry)] = true
        var reached = 1
        while let node = stack.popLast() {
            let list = view.links(node, level: 0)
            for i in 0..<Int(list[0]) where !seen[Int(list[1 + i])] {
                seen[Int(list[1 + i])] = true
                reached += 1
                stack.append(list[1 + i])
            }
        }
        guard reached == count else {
            let first = seen.firstIndex(of: false)!
            return "\(count - reached) node(s) unreachable from the entry point at level 0 (first: \(first))"
        }
        return nil
    }
}

extension HNSWIndex {
    /// Whether a search for the stored vector of `label` finds it, or a copy of it: a hit at
    /// least as close as the vector is to itself (within `copyDistanceMax`). Exact duplicates
    /// are common in real collections (mirrored pages), and a search may rightly answer any
    /// one of them, so a navigability check must not count that as a miss.
    public func findsItself(label: UInt64) throws(HNSWError) -> Bool {
        guard let vector = vector(forLabel: label) else { return false }
        guard let hit = try search(vector, k: 1).first else { return false }
        if hit.label == label { return true }
        let selfDistance = vector.withUnsafeBufferPointer {
            parameters.metric.distance($0.baseAddress!, $0.baseAddress!, dimension: $0.count)
        }
        return hit.distance <= selfDistance + Self.copyDistanceMax
    }
}
