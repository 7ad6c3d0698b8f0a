/// One search hit: an internal row id and its distance (smaller is closer).
public struct Neighbor: Sendable, Equatable, Hashable {
    public var id: UInt32
    public var distance: Float

    @inlinable public init(id: UInt32, distance: Float) {
        self.id = id
        self.distance = distance
    }
}

/// A bounded max-heap keeping the `capacity` closest neighbours seen so far, over storage the
/// caller owns (so per-row selection inside a tile allocates nothing).
///
/// Invariant: `count <= capacity`; `storage[0]` is the farthest kept neighbour when non-empty.
public struct TopKHeap {
    @usableFromInline let storage: UnsafeMutablePointer<Neighbor>
    public let capacity: Int
    /// How many neighbours are kept.
    public var count: Int { _count }
    @usableFromInline var _count: Int = 0

    @inlinable
    public init(storage: UnsafeMutablePointer<Neighbor>, capacity: Int) {
        precondition(capacity > 0, "a top-k heap needs capacity >= 1")
        self.storage = storage
        self.capacity = capacity
    }

    /// The distance a newcomer must beat to enter (infinity while not full).
    @inlinable public var threshold: Float {
        _count < capacity ? .infinity : storage[0].distance
    }

    /// Offers a candidate; keeps it if it is among the `capacity` closest so far.
    @inlinable @inline(__always)
    public mutating func offer(id: UInt32, distance: Float) {
        if _count < capacity {
            var i = _count
            _count += 1
            while i > 0 {
                let parent = (i - 1) >> 1
                if storage[parent].distance >= distance { break }
                storage[i] = storage[parent]
                i = parent
            }
            storage[i] = Neighbor(id: id, distance: distance)
        } else if distance < storage[0].distance {
            siftDownFromRoot(Neighbor(id: id, distance: distance))
        }
    }

    @inlinable
    mutating func siftDownFromRoot(_ item: Neighbor) {
        var i = 0
        while true {
            let left = 2 * i + 1
            if left >= _count { break }
            var child = left
            if left + 1 < _count && storage[left + 1].distance > storage[left].distance { child = left + 1 }
            if storage[child].distance <= item.distance { break }
            storage[i] = storage[child]
            i = child
        }
        storage[i] = item
    }

    /// The kept neighbours, closest first (ties broken by smaller id, for determinism).
    public func sorted() -> [Neighbor] {
        UnsafeBufferPointer(start: storage, count: _count).sorted {
            $0.distance != $1.distance ? $0.distance < $1.distance : $0.id < $1.id
        }
    }
}
