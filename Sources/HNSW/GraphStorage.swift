import CFirebreakSupport
import VectorMath

/// The raw memory of a graph, laid out as in hnswlib for cache locality:
/// one level-0 record per node, `[degree: UInt32][neighbours: UInt32 × m0][vector: Float × d]`,
/// so a node's links sit next to its vector. Upper levels are separate per-node arrays of
/// `level` blocks `[degree][neighbours × m]`. Plus per-node label, level, tombstone bit and
/// spin lock. Grows by reallocation (only under exclusive access).
final class GraphStorage {
    let dimension: Int
    let m: Int
    let m0: Int
    let linkBytes: Int
    let recordBytes: Int
    private(set) var capacity: Int

    private(set) var records: UnsafeMutableRawPointer
    private(set) var upperLinks: UnsafeMutablePointer<UnsafeMutablePointer<UInt32>?>
    private(set) var labels: UnsafeMutablePointer<UInt64>
    private(set) var levels: UnsafeMutablePointer<UInt8>
    private(set) var locks: UnsafeMutablePointer<UInt8>
    /// Tombstones as bitset words, so "allowed and not deleted" is one AND per 64 nodes.
    private(set) var deletedWords: UnsafeMutablePointer<UInt64>
    /// Level-0 in-degree of every node, kept current by every link change (atomically during a
    /// concurrent build): a node whose count drops to 0 can no longer be reached.
    private(set) var inDegrees: UnsafeMutablePointer<UInt32>

    init(dimension: Int, m: Int, capacity: Int) {
        self.dimension = dimension
        self.m = m
        self.m0 = 2 * m
        linkBytes = (1 + 2 * m) * 4
        recordBytes = linkBytes + dimension * 4
        self.capacity = max(1, capacity)
        records = .allocate(byteCount: self.capacity * recordBytes, alignment: 64)
        upperLinks = .allocate(capacity: self.capacity)
        upperLinks.initialize(repeating: nil, count: self.capacity)
        labels = .allocate(capacity: self.capacity)
        levels = .allocate(capacity: self.capacity)
        locks = .allocate(capacity: self.capacity)
        locks.initialize(repeating: 0, count: self.capacity)
        deletedWords = .allocate(capacity: Self.wordCount(self.capacity))
        deletedWords.initialize(repeating: 0, count: Self.wordCount(self.capacity))
        inDegrees = .allocate(capacity: self.capacity)
        inDegrees.initialize(repeating: 0, count: self.capacity)
    }

    deinit {
        for i in 0..<capacity { upperLinks[i]?.deallocate() }
        records.deallocate()
        upperLinks.deallocate()
        labels.deallocate()
        levels.deallocate()
        locks.deallocate()
        deletedWords.deallocate()
        inDegrees.deallocate()
    }

    static func wordCount(_ nodes: Int) -> Int { (nodes + 63) / 64 }

    /// A deep copy of the first `count` nodes: records, upper links, labels, levels,
    /// tombstones and in-degrees (the spin locks start free). The caller keeps writers out.
    func copy(count: Int) -> GraphStorage {
        precondition(count <= capacity, "count \(count) exceeds the capacity \(capacity)")
        let copy = GraphStorage(dimension: dimension, m: m, capacity: count)
        copy.records.copyMemory(from: records, byteCount: count * recordBytes)
        copy.labels.update(from: labels, count: count)
        copy.levels.update(from: levels, count: count)
        copy.deletedWords.update(from: deletedWords, count: Self.wordCount(count))
        copy.inDegrees.update(from: inDegrees, count: count)
        for node in 0..<count {
            guard let links = upperLinks[node] else { continue }
            let words = Int(levels[node]) * (1 + m)
            let lists = UnsafeMutablePointer<UInt32>.allocate(capacity: words)
            lists.initialize(from: links, count: words)
            copy.upperLinks[node] = lists
        }
        return copy
    }

    /// Grows to hold at least `needed` nodes (doubling), keeping the first `count` nodes.
    func reserve(_ needed: Int, count: Int) {
        guard needed > capacity else { return }
        let newCapacity = max(needed, capacity * 2)
        let newRecords = UnsafeMutableRawPointer.allocate(byteCount: newCapacity * recordBytes, alignment: 64)
        newRecords.copyMemory(from: records, byteCount: count * recordBytes)
        records.deallocate()
        records = newRecords
        upperLinks = grow(upperLinks, count: capacity, to: newCapacity, fill: UnsafeMutablePointer<UInt32>?.none)
        labels = grow(labels, count: count, to: newCapacity, fill: 0)
        levels = grow(levels, count: count, to: newCapacity, fill: 0)
        locks = grow(locks, count: capacity, to: newCapacity, fill: 0)
        deletedWords = grow(deletedWords, count: Self.wordCount(capacity), to: Self.wordCount(newCapacity), fill: 0)
        inDegrees = grow(inDegrees, count: capacity, to: newCapacity, fill: 0)
        capacity = newCapacity
    }

    /// Moves the first `count` elements to a buffer of `newCapacity` and fills the rest.
    private func grow<T>(_ old: UnsafeMutablePointer<T>, count: Int, to newCapacity: Int,
                         fill: T) -> UnsafeMutablePointer<T> {
        let new = UnsafeMutablePointer<T>.allocate(capacity: newCapacity)
        new.moveInitialize(from: old, count: count)
        (new + count).initialize(repeating: fill, count: newCapacity - count)
        old.deallocate()
        return new
    }

    /// Allocates and zeroes the upper link lists of a node at `level` (none for level 0).
    func allocateUpperLinks(node: Int, level: Int) {
        precondition(upperLinks[node] == nil, "node \(node) already has upper links")
        guard level > 0 else { return }
        let words = level * (1 + m)
        let lists = UnsafeMutablePointer<UInt32>.allocate(capacity: words)
        lists.initialize(repeating: 0, count: words)
        upperLinks[node] = lists
    }

    var view: GraphView {
        GraphView(records: records, recordBytes: recordBytes, linkBytes: linkBytes, upperLinks: upperLinks,
                  locks: locks, deletedWords: deletedWords, inDegrees: inDegrees, dimension: dimension, m: m, m0: m0)
    }
}

/// A borrowed, immutable bundle of the storage pointers for hot loops (no class property
/// access, no exclusivity checks). Valid until the next `reserve`.
struct GraphView {
    let records: UnsafeMutableRawPointer
    let recordBytes: Int
    let linkBytes: Int
    let upperLinks: UnsafeMutablePointer<UnsafeMutablePointer<UInt32>?>
    let locks: UnsafeMutablePointer<UInt8>
    let deletedWords: UnsafeMutablePointer<UInt64>
    let inDegrees: UnsafeMutablePointer<UInt32>
    let dimension: Int
    let m: Int
    let m0: Int

    @inline(__always)
    func vector(_ id: UInt32) -> UnsafeMutablePointer<Float> {
        (records + (Int(id) &* recordBytes &+ linkBytes)).assumingMemoryBound(to: Float.self)
    }

    /// `[degree, n1, n2, …]` of `id` at `level`.
    @inline(__always)
    func links(_ id: UInt32, level: Int) -> UnsafeMutablePointer<UInt32> {
        if level == 0 { return (records + Int(id) &* recordBytes).assumingMemoryBound(to: UInt32.self) }
        return upperLinks[Int(id)]! + (level &- 1) &* (1 &+ m)
    }

    @inline(__always)
    func maxDegree(level: Int) -> Int { level == 0 ? m0 : m }

    @inline(__always)
    func isDeleted(_ id: UInt32) -> Bool {
        (deletedWords[Int(id) &>> 6] &>> UInt64(id & 63)) & 1 == 1
    }

    /// Prefetches a whole vector (all its cache lines): distance kernels are memory-bound.
    @inline(__always)
    func prefetchVector(_ id: UInt32) {
        fb_prefetch_range(records + (Int(id) &* recordBytes &+ linkBytes), dimension &* 4)
    }

    @inline(__always)
    func prefetchRecord(_ id: UInt32) { fb_prefetch(records + Int(id) &* recordBytes) }

    /// Changes the level-0 in-degree of `id` by `delta` (atomic: lists of different nodes may
    /// gain or drop `id` at the same time).
    @inline(__always)
    func addInDegree(_ id: UInt32, _ delta: Int32) { _ = fb_add_u32(inDegrees + Int(id), delta) }

    /// Copies the neighbour list of `id` at `level` into `buffer` (taking the node's lock when
    /// `locked`, i.e. during a concurrent build) and returns its length.
    @inline(__always)
    func copyNeighbors(_ id: UInt32, level: Int, into buffer: UnsafeMutablePointer<UInt32>, locked: Bool) -> Int {
        let list = links(id, level: level)
        if locked { fb_spin_lock(locks + Int(id)) }
        let degree = Int(list[0])
        buffer.update(from: list + 1, count: degree)
        if locked { fb_spin_unlock(locks + Int(id)) }
        return degree
    }
}
