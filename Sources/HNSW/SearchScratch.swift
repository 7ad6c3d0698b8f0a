import Foundation

/// Per-thread working memory for one search or one insert: a generation-stamped visited table
/// (no clearing between searches), the two heaps, a neighbour-list copy buffer and a query
/// buffer. Reused through `ScratchPool`, so steady-state searches allocate only their result.
final class SearchScratch {
    private(set) var visited: UnsafeMutablePointer<UInt16>
    private(set) var visitedCapacity: Int
    private var generation: UInt16 = 0
    var candidates = DistanceHeap(capacity: 256)
    var results = DistanceHeap(capacity: 256)
    let neighborBuffer: UnsafeMutablePointer<UInt32>
    let query: UnsafeMutablePointer<Float>
    /// Heuristic workspace: selected ids and their vectors' distances.
    var selected: [(distance: Float, id: UInt32)] = []
    var pending: [(distance: Float, id: UInt32)] = []
    var kept: [(distance: Float, id: UInt32)] = []
    /// Nodes that lost a level-0 inbound link during this worker's inserts (orphan suspects).
    var dropped: [UInt32] = []

    init(nodeCapacity: Int, dimension: Int, maxDegree: Int) {
        visitedCapacity = max(1, nodeCapacity)
        visited = .allocate(capacity: visitedCapacity)
        visited.initialize(repeating: 0, count: visitedCapacity)
        neighborBuffer = .allocate(capacity: maxDegree + 1)
        query = .allocate(capacity: dimension)
    }

    deinit {
        visited.deallocate()
        neighborBuffer.deallocate()
        query.deallocate()
    }

    /// Starts a new search over `nodeCount` nodes: bumps the generation (clearing only on wrap).
    @inline(__always)
    func beginSearch(nodeCount: Int) {
        if nodeCount > visitedCapacity {
            visited.deallocate()
            visitedCapacity = nodeCount * 2
            visited = .allocate(capacity: visitedCapacity)
            visited.initialize(repeating: 0, count: visitedCapacity)
            generation = 0
        }
        generation &+= 1
        if generation == 0 {
            visited.update(repeating: 0, count: visitedCapacity)
            generation = 1
        }
        candidates.removeAll()
        results.removeAll()
    }

    /// Marks `id` visited; returns false if it already was.
    @inline(__always)
    func visit(_ id: UInt32) -> Bool {
        let slot = visited + Int(id)
        if slot.pointee == generation { return false }
        slot.pointee = generation
        return true
    }
}

/// A lock-protected stack of scratch spaces, so concurrent searches each get their own.
final class ScratchPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [SearchScratch] = []
    private let dimension: Int
    private let maxDegree: Int

    init(dimension: Int, maxDegree: Int) {
        self.dimension = dimension
        self.maxDegree = maxDegree
    }

    func withScratch<R>(nodeCount: Int, _ body: (SearchScratch) throws -> R) rethrows -> R {
        lock.lock()
        let scratch = free.popLast()
            ?? SearchScratch(nodeCapacity: nodeCount, dimension: dimension, maxDegree: maxDegree)
        lock.unlock()
        defer {
            lock.lock()
            free.append(scratch)
            lock.unlock()
        }
        return try body(scratch)
    }
}
