import CFirebreakSupport
import Foundation
import VectorMath

/// A hierarchical navigable small-world graph (Malkov & Yashunin, 2016) with the neighbour
/// selection heuristic, concurrent build, filtered search, tombstones and compaction.
///
/// Ids: callers name vectors by a 64-bit `label`; the index numbers them with dense internal
/// ids `0..<count` in insertion order (the ids an allow-filter `IDBitset` is built over).
/// Use `id(forLabel:)` to build filters.
///
/// Thread safety: `search` may run on many threads at once; `add`, `delete` and compaction
/// require exclusive access (the owner serialises them). See the module header.
public final class HNSWIndex: @unchecked Sendable {
    public let parameters: HNSWParameters
    let storage: GraphStorage
    let scratchPool: ScratchPool
    /// The entry point and the top level packed in one word, `level << 32 | entry` (or -1 when
    /// empty), so a concurrent build reads both together with one atomic load.
    let topState: UnsafeMutablePointer<Int64>
    /// Held while a node that raises the top level is being inserted.
    let topLock: UnsafeMutablePointer<UInt8>
    /// Level multiplier mL = 1 / ln(M).
    let levelMultiplier: Double
    var levelRNG: SplitMix64
    var labelToID: [UInt64: UInt32] = [:]

    /// Nodes stored, including tombstoned ones.
    public internal(set) var count = 0
    /// Tombstoned nodes (deleted, still in the graph until compaction).
    public internal(set) var deletedCount = 0
    /// Nodes inserted since the last full reachability walk (see `repairOrphans`).
    var insertedSinceFullWalk = 0
    /// Batches staged and not yet published or abandoned (0 or 1). While one is, searches
    /// read neighbour lists under the node locks: `link` may be rewriting them.
    var stagedBatches = 0

    /// The highest level any node may get; 2^-16 odds per level for M = 2 already.
    static let levelMax = 16

    public init(parameters: HNSWParameters, capacity: Int = 1024) throws(HNSWError) {
        try parameters.validate()
        guard capacity >= 0 && capacity <= HNSWParameters.countMax else {
            throw HNSWError(.invalidParameter, "capacity must be in 0...\(HNSWParameters.countMax)")
        }
        self.parameters = parameters
        storage = GraphStorage(dimension: parameters.dimension, m: parameters.m, capacity: capacity)
        scratchPool = ScratchPool(dimension: parameters.dimension, maxDegree: parameters.m0)
        topState = .allocate(capacity: 1)
        topState.initialize(to: -1)
        topLock = .allocate(capacity: 1)
        topLock.initialize(to: 0)
        levelMultiplier = 1 / Foundation.log(Double(parameters.m))
        levelRNG = SplitMix64(seed: parameters.seed)
    }

    /// A deep copy that no later change to `other` touches: what a snapshot writes out while
    /// the live graph goes on changing. The caller keeps writers of `other` out meanwhile
    /// (searches may run). Costs one memcpy of the graph, no distance computation.
    public init(copying other: HNSWIndex) {
        parameters = other.parameters
        storage = other.storage.copy(count: other.count)
        scratchPool = ScratchPool(dimension: other.parameters.dimension, maxDegree: other.parameters.m0)
        topState = .allocate(capacity: 1)
        topState.initialize(to: other.topState.pointee)
        topLock = .allocate(capacity: 1)
        topLock.initialize(to: 0)
        levelMultiplier = other.levelMultiplier
        levelRNG = other.levelRNG
        labelToID = other.labelToID
        count = other.count
        deletedCount = other.deletedCount
    }

    deinit {
        topState.deallocate()
        topLock.deallocate()
    }

    /// Live (not deleted) vectors.
    public var liveCount: Int { count - deletedCount }

    public var entryPoint: UInt32? { loadTop()?.entry }

    /// The highest level of the graph, -1 when empty.
    public var topLevel: Int { loadTop()?.level ?? -1 }

    @inline(__always)
    func loadTop() -> (entry: UInt32, level: Int)? {
        let word = fb_load_acquire(topState)
        guard word >= 0 else { return nil }
        return (UInt32(truncatingIfNeeded: word), Int(word >> 32))
    }

    func storeTop(entry: UInt32, level: Int) {
        fb_store_release(topState, Int64(level) << 32 | Int64(entry))
    }

    func clearTop() { fb_store_release(topState, -1) }

    public func id(forLabel label: UInt64) -> UInt32? { labelToID[label] }

    public func label(ofID id: UInt32) -> UInt64 {
        precondition(Int(id) < count, "internal id \(id) out of range 0..<\(count)")
        return storage.labels[Int(id)]
    }

    public func isDeleted(id: UInt32) -> Bool {
        precondition(Int(id) < count, "internal id \(id) out of range 0..<\(count)")
        return storage.view.isDeleted(id)
    }

    /// A copy of the stored (prepared) vector of `label`, or nil if unknown.
    public func vector(forLabel label: UInt64) -> [Float]? {
        guard let id = labelToID[label] else { return nil }
        return Array(UnsafeBufferPointer(start: storage.view.vector(id), count: parameters.dimension))
    }

    /// An allow-filter over the current internal ids admitting exactly `labels` (unknown
    /// labels are ignored: they cannot be returned anyway).
    public func filter(allowing labels: some Sequence<UInt64>) -> IDBitset {
        var bits = IDBitset(capacity: count, filled: false)
        for label in labels { if let id = labelToID[label] { bits.insert(Int(id)) } }
        return bits
    }

    /// An allow-filter admitting every current id except `labels` (quarantine-style).
    public func filter(excluding labels: some Sequence<UInt64>) -> IDBitset {
        var bits = IDBitset(capacity: count, filled: true)
        for label in labels { if let id = labelToID[label] { bits.remove(Int(id)) } }
        return bits
    }

    /// Tombstones `label`: it is never returned again and leaves the graph at compaction.
    public func delete(label: UInt64) throws(HNSWError) {
        guard let id = labelToID[label] else {
            throw HNSWError(.unknownLabel, "no vector has label \(label)")
        }
        let word = storage.deletedWords + Int(id) / 64
        let bit = UInt64(1) << UInt64(id % 64)
        guard word.pointee & bit == 0 else {
            throw HNSWError(.unknownLabel, "label \(label) is already deleted")
        }
        word.pointee |= bit
        deletedCount += 1
        debugCheckIntegrity()
    }

    func randomLevel() -> Int {
        let level = Int(-Foundation.log(levelRNG.nextOpenUnit()) * levelMultiplier)
        return min(level, Self.levelMax)
    }

    @inline(__always)
    func distance(_ query: UnsafePointer<Float>, _ id: UInt32, _ view: GraphView) -> Float {
        parameters.metric.distance(query, view.vector(id), dimension: view.dimension)
    }

    /// Runs the integrity walk after a mutation in debug builds and in builds with
    /// `-DFIREBREAK_INVARIANTS` (the test command), panicking on a violated invariant.
    /// Compiled out of plain release builds: the walk is O(n · M).
    func debugCheckIntegrity() {
        #if FIREBREAK_INVARIANTS
        if let problem = integrityProblem() { preconditionFailure("HNSW integrity: \(problem)") }
        #else
        assert({
            if let problem = integrityProblem() { preconditionFailure("HNSW integrity: \(problem)") }
            return true
        }())
        #endif
    }
}
