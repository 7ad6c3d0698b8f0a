import Foundation
@testable import Engine
import XCTest

final class HandoffTests: XCTestCase {
    /// Items arrive in order; the producer never runs more than `capacity` ahead; its error
    /// reaches the consumer after the items before it.
    func testItemsArriveInOrderWithBoundedLookAheadAndThenTheProducersError() throws {
        struct Broke: Error {}
        let handoff = Handoff<Int>(capacity: 2)
        let produced = Counter()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            for item in 0..<10 {
                XCTAssertTrue(handoff.put(item))
                produced.increment()
            }
            handoff.finish(throwing: Broke())
            done.signal()
        }
        var taken: [Int] = []
        while taken.count < 10 {
            Thread.sleep(forTimeInterval: 0.002)
            XCTAssertLessThanOrEqual(produced.value, taken.count + 2, "at most capacity items wait")
            if let item = try handoff.take() { taken.append(item) }
        }
        XCTAssertEqual(taken, Array(0..<10))
        XCTAssertThrowsError(try handoff.take()) { XCTAssertTrue($0 is Broke) }
        done.wait()
    }

    /// A consumer that abandons frees a producer waiting for room, and every later `put` is refused.
    func testAbandoningReleasesAWaitingProducer() {
        let handoff = Handoff<Int>(capacity: 1)
        XCTAssertTrue(handoff.put(1))
        let refused = expectation(description: "the waiting put returns false")
        DispatchQueue.global().async {
            if !handoff.put(2) { refused.fulfill() }
        }
        Thread.sleep(forTimeInterval: 0.05)
        handoff.abandon()
        wait(for: [refused], timeout: 5)
        XCTAssertFalse(handoff.put(3))
    }

    func testAFinishedHandoffEndsAfterItsItems() throws {
        let handoff = Handoff<String>(capacity: 3)
        XCTAssertTrue(handoff.put("a"))
        handoff.finish()
        XCTAssertEqual(try handoff.take(), "a")
        XCTAssertNil(try handoff.take())
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
