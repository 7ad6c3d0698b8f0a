@testable import VectorMath
import XCTest

final class KernelsTests: XCTestCase {
    /// The SIMD kernels agree with a plain loop for every length around the 8/16/32 steps.
    func testKernelsMatchNaiveLoopsForAllTailLengths() {
        var rng = SplitMix64(seed: 7)
        for dimension in 1...70 {
            let a = (0..<dimension).map { _ in rng.nextGaussian() }
            let b = (0..<dimension).map { _ in rng.nextGaussian() }
            let dot = zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            let l2 = zip(a, b).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            XCTAssertEqual(Kernels.dot(a, b, dimension), dot, accuracy: 1e-4 * Float(dimension), "dot, d=\(dimension)")
            XCTAssertEqual(Kernels.squaredL2(a, b, dimension), l2, accuracy: 1e-4 * Float(dimension), "l2, d=\(dimension)")
        }
    }

    func testMetricDistancesAreSmallerIsCloser() {
        let a: [Float] = [1, 0], b: [Float] = [0.9, 0.1], c: [Float] = [-1, 0]
        for metric in Metric.allCases {
            XCTAssertLessThan(metric.distance(a, b, dimension: 2), metric.distance(a, c, dimension: 2), "\(metric)")
        }
        XCTAssertEqual(Metric.l2.distance(a, c, dimension: 2), 4)
        XCTAssertEqual(Metric.innerProduct.distance(a, c, dimension: 2), 2)
    }

    func testMetricNamesAndCodesRoundTrip() {
        for metric in Metric.allCases {
            XCTAssertEqual(Metric(code: metric.code), metric)
            XCTAssertEqual(Metric(name: metric.rawValue), metric)
        }
        XCTAssertNil(Metric(name: "hamming"))
        XCTAssertNil(Metric(code: 0))
    }

    func testCosinePrepareNormalisesAndRefusesZeroVectors() throws {
        var v: [Float] = [3, 4]
        try v.withUnsafeMutableBufferPointer { try Metric.cosine.prepare($0) }
        XCTAssertEqual(v[0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(v[1], 0.8, accuracy: 1e-6)
        var zero: [Float] = [0, 0]
        XCTAssertThrowsError(try zero.withUnsafeMutableBufferPointer { try Metric.cosine.prepare($0) }) {
            XCTAssertEqual(($0 as? VectorMathError)?.code, .zeroVector)
        }
    }

    func testTopKHeapKeepsTheSmallestInOrder() {
        let storage = UnsafeMutablePointer<Neighbor>.allocate(capacity: 5)
        defer { storage.deallocate() }
        var heap = TopKHeap(storage: storage, capacity: 5)
        var rng = SplitMix64(seed: 3)
        var all: [Neighbor] = []
        for id in 0..<1000 {
            let distance = rng.nextFloat()
            all.append(Neighbor(id: UInt32(id), distance: distance))
            heap.offer(id: UInt32(id), distance: distance)
        }
        let expected = all.sorted { $0.distance < $1.distance }.prefix(5)
        XCTAssertEqual(heap.sorted(), Array(expected))
    }

    func testBitsetMembershipCountAndBounds() {
        var bits = IDBitset(capacity: 130, filled: true)
        XCTAssertEqual(bits.count, 130)
        bits.remove(0)
        bits.remove(129)
        XCTAssertEqual(bits.count, 128)
        XCTAssertFalse(bits.contains(0))
        XCTAssertTrue(bits.contains(64))
        XCTAssertFalse(bits.contains(130), "ids past capacity are never members")
        XCTAssertFalse(bits.contains(-1))
        bits.withView { view in
            XCTAssertFalse(view.contains(129))
            XCTAssertFalse(view.contains(5000))
            XCTAssertEqual(view.wordCount, 3)
        }
        let empty = IDBitset(capacity: 0, filled: true)
        XCTAssertEqual(empty.count, 0)
    }

    func testMatrixValidation() {
        XCTAssertThrowsError(try Matrix(rows: 2, dimension: 3, storage: [1, 2, 3])) {
            XCTAssertEqual(($0 as? VectorMathError)?.code, .dimensionMismatch)
        }
        XCTAssertThrowsError(try Matrix(rows: 1, dimension: 0, storage: [])) {
            XCTAssertEqual(($0 as? VectorMathError)?.code, .invalidArgument)
        }
        let bad = try! Matrix(rows: 2, dimension: 2, storage: [1, 2, .nan, 4])
        XCTAssertEqual(bad.firstNonFiniteRow(), 1)
        XCTAssertThrowsError(try bad.validateFinite()) {
            XCTAssertEqual(($0 as? VectorMathError)?.code, .nonFiniteValue)
        }
    }
}
