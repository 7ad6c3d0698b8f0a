/// A fixed-size set of internal ids, one bit each: the allow-filter that every search path
/// (HNSW, exact, later BM25) takes. Quarantine and tenant filters are built as bitsets over the
/// same internal ids, so "allowed" is a single AND per candidate in the hot loop.
public struct IDBitset: Sendable, Equatable {
    public let capacity: Int
    @usableFromInline var words: [UInt64]

    /// A bitset over ids `0..<capacity`, all set (`filled`) or all clear.
    public init(capacity: Int, filled: Bool) {
        precondition(capacity >= 0, "bitset capacity must be non-negative")
        self.capacity = capacity
        let wordCount = (capacity + 63) / 64
        words = [UInt64](repeating: filled ? ~0 : 0, count: wordCount)
        if filled, capacity % 64 != 0 { words[wordCount - 1] = (1 << UInt64(capacity % 64)) - 1 }
    }

    @inlinable
    public func contains(_ id: Int) -> Bool {
        guard id >= 0 && id < capacity else { return false }
        return words.withUnsafeBufferPointer { ($0[id >> 6] >> UInt64(id & 63)) & 1 == 1 }
    }

    public mutating func insert(_ id: Int) {
        precondition(id >= 0 && id < capacity, "id \(id) outside bitset of capacity \(capacity)")
        words[id >> 6] |= 1 << UInt64(id & 63)
    }

    public mutating func remove(_ id: Int) {
        precondition(id >= 0 && id < capacity, "id \(id) outside bitset of capacity \(capacity)")
        words[id >> 6] &= ~(1 << UInt64(id & 63))
    }

    /// Number of ids in the set.
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Runs `body` with raw word access for hot loops (see `IDBitsetView`).
    @inlinable
    public func withView<R>(_ body: (IDBitsetView) throws -> R) rethrows -> R {
        try words.withUnsafeBufferPointer { try body(IDBitsetView(words: $0.baseAddress!, capacity: capacity)) }
    }
}

/// A borrowed, unchecked view of an `IDBitset` for inner loops. Valid only inside `withView`.
public struct IDBitsetView {
    /// The bit words: id `i` is bit `i % 64` of word `i / 64`. Bits at or past `capacity` are 0.
    public let words: UnsafePointer<UInt64>
    public let capacity: Int

    /// Number of 64-bit words.
    public var wordCount: Int { (capacity + 63) / 64 }

    @inlinable init(words: UnsafePointer<UInt64>, capacity: Int) {
        self.words = words
        self.capacity = capacity
    }

    /// Ids at or beyond `capacity` are not members (a filter built before later inserts
    /// never admits the newer ids by accident).
    @inlinable @inline(__always)
    public func contains(_ id: UInt32) -> Bool {
        let i = Int(id)
        guard i < capacity else { return false }
        return (words[i &>> 6] &>> UInt64(i & 63)) & 1 == 1
    }
}
