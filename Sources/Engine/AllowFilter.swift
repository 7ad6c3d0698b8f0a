import VectorMath

/// The allow-filter of one index of a partition: every id admitted except those withheld
/// (quarantined). It keeps headroom, so ids added after it was built are admitted without a
/// rebuild; growing re-applies the withheld set.
struct AllowFilter: Sendable {
    private(set) var bits: IDBitset
    private(set) var withheld: Set<UInt32> = []
    static let capacityMin = 1_024

    init(capacity: Int = capacityMin) {
        bits = IDBitset(capacity: max(capacity, Self.capacityMin), filled: true)
    }

    /// Makes room for ids `0..<count`.
    mutating func reserve(_ count: Int) {
        guard count > bits.capacity else { return }
        var grown = IDBitset(capacity: max(count, 2 * bits.capacity), filled: true)
        for id in withheld { grown.remove(Int(id)) }
        bits = grown
    }

    mutating func withhold(_ id: UInt32) {
        reserve(Int(id) + 1)
        withheld.insert(id)
        bits.remove(Int(id))
    }

    mutating func readmit(_ id: UInt32) {
        withheld.remove(id)
        if Int(id) < bits.capacity { bits.insert(Int(id)) }
    }

    func admits(_ id: UInt32) -> Bool { Int(id) < bits.capacity && bits.contains(Int(id)) }
}
