import Foundation

/// A bounded hand-off between one producing thread and one consumer: the producer waits
/// while `capacity` items are waiting; the consumer waits for the next item. Either side can
/// end it: the producer with `finish` (after its last item, or with its error), the consumer
/// with `abandon` (the producer's next `put` returns false, and nothing waits forever).
final class Handoff<Item>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Item] = []
    private var finished = false
    private var abandoned = false
    private var failure: (any Error)?
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity >= 1, "a hand-off holds at least one item")
        self.capacity = capacity
    }

    /// Hands `item` over, waiting for room; false when the consumer has abandoned.
    func put(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        precondition(!finished, "put after finish")
        while items.count >= capacity && !abandoned { condition.wait() }
        guard !abandoned else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// No more items; with `error`, the consumer's next `take` after the last item throws it.
    func finish(throwing error: (any Error)? = nil) {
        condition.lock()
        defer { condition.unlock() }
        finished = true
        failure = error
        condition.broadcast()
    }

    /// The next item, waiting for it; nil once the producer finished and every item was
    /// taken; throws the producer's error in its place.
    func take() throws -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !finished { condition.wait() }
        guard items.isEmpty else {
            condition.broadcast()
            return items.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }

    /// The consumer stops taking: a waiting or later `put` returns false.
    func abandon() {
        condition.lock()
        defer { condition.unlock() }
        abandoned = true
        items.removeAll()
        condition.broadcast()
    }
}
