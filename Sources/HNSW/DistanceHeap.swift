/// A binary max-heap of (distance, id) pairs over storage it owns and grows on demand.
/// Used twice per search: as the result set (farthest on top, bounded by ef) and, with negated
/// distances, as the candidate queue (closest on top). Never shrinks, so a reused heap stops
/// allocating after its first few searches.
struct DistanceHeap: ~Copyable {
    private(set) var storage: UnsafeMutablePointer<(distance: Float, id: UInt32)>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(16, capacity)
        storage = .allocate(capacity: self.capacity)
    }

    deinit { storage.deallocate() }

    var isEmpty: Bool { count == 0 }
    var top: (distance: Float, id: UInt32) { storage[0] }

    mutating func removeAll() { count = 0 }

    @inline(__always)
    mutating func push(_ distance: Float, _ id: UInt32) {
        if count == capacity { grow() }
        var i = count
        count &+= 1
        while i > 0 {
            let parent = (i &- 1) &>> 1
            if storage[parent].distance >= distance { break }
            storage[i] = storage[parent]
            i = parent
        }
        storage[i] = (distance, id)
    }

    @inline(__always) @discardableResult
    mutating func pop() -> (distance: Float, id: UInt32) {
        let top = storage[0]
        count &-= 1
        if count > 0 { siftDown(storage[count]) }
        return top
    }

    @inline(__always)
    private mutating func siftDown(_ item: (distance: Float, id: UInt32)) {
        var i = 0
        let half = count &>> 1
        while i < half {
            var child = 2 &* i &+ 1
            let right = child &+ 1
            if right < count && storage[right].distance > storage[child].distance { child = right }
            if storage[child].distance <= item.distance { break }
            storage[i] = storage[child]
            i = child
        }
        storage[i] = item
    }

    private mutating func grow() {
        let bigger = UnsafeMutablePointer<(distance: Float, id: UInt32)>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: storage, count: count)
        storage.deallocate()
        storage = bigger
        capacity *= 2
    }
}
