import Foundation
@testable import VectorMath
import XCTest

final class BLASAndFilesTests: XCTestCase {
    func testBLASIsDetectedAndMeasured() {
        let library = BLAS.library
        XCTAssertNotEqual(library.path, "unknown", "dladdr must name the object providing cblas_sgemm")
        XCTAssertEqual(library.implementation == .reference, BLAS.referenceWarning != nil)
        XCTAssertGreaterThan(BLAS.measureSgemmGFLOPs(size: 128, threads: 1, repetitions: 1), 0)
        XCTAssertEqual(BLAS.threads, 1, "after a measurement BLAS is back to caller parallelism")
    }

    func testDotProductsMatchKernels() {
        let a = SyntheticData.gaussianClusters(rows: 5, dimension: 9, clusters: 2, seed: 1)
        let b = SyntheticData.gaussianClusters(rows: 6, dimension: 9, clusters: 2, seed: 2)
        var c = [Float](repeating: 0, count: 30)
        a.withUnsafeRows { pa in b.withUnsafeRows { pb in c.withUnsafeMutableBufferPointer {
            BLAS.dotProducts(pa, rowsA: 5, pb, rowsB: 6, dimension: 9, into: $0.baseAddress!)
        } } }
        for i in 0..<5 { for j in 0..<6 {
            XCTAssertEqual(c[i * 6 + j], Kernels.dot(a.row(i), b.row(j), 9), accuracy: 1e-4)
        } }
    }

    private func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "firebreak-test-\(getpid())-\(name)"
    }

    func testNPYRoundTripAndIntegers() throws {
        let matrix = SyntheticData.gaussianClusters(rows: 7, dimension: 5, clusters: 2, seed: 9)
        let path = temporaryPath("m.npy")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try MatrixFile.writeNPY(matrix, to: path)
        XCTAssertEqual(try MatrixFile.readFloats(path), matrix)
        XCTAssertThrowsError(try MatrixFile.readIntegers(path)) {
            XCTAssertEqual(($0 as? VectorMathError)?.code, .invalidArgument, "float data is not ids")
        }
        var ints = NPY.header(descr: "<i8", shape: [3])
        for value: Int64 in [5, -1, 9] { withUnsafeBytes(of: value) { ints.append(contentsOf: $0) } }
        let intPath = temporaryPath("i.npy")
        defer { try? FileManager.default.removeItem(atPath: intPath) }
        FileManager.default.createFile(atPath: intPath, contents: ints)
        let read = try MatrixFile.readIntegers(intPath)
        XCTAssertEqual(read.values, [5, -1, 9])
        XCTAssertEqual(read.columns, 1)
    }

    func testFloat16NPYAndFvecs() throws {
        var half = NPY.header(descr: "<f2", shape: [1, 4])
        for bits: UInt16 in [0x3C00, 0xC000, 0x0001, 0x7C00] { withUnsafeBytes(of: bits) { half.append(contentsOf: $0) } }
        let path = temporaryPath("h.npy")
        defer { try? FileManager.default.removeItem(atPath: path) }
        FileManager.default.createFile(atPath: path, contents: half)
        let m = try MatrixFile.readFloats(path)
        XCTAssertEqual(m.storage[0], 1)
        XCTAssertEqual(m.storage[1], -2)
        XCTAssertEqual(m.storage[2], Float(sign: .plus, exponent: -24, significand: 1))
        XCTAssertEqual(m.storage[3], .infinity)

        var fvecs = Data()
        for row in [[Float(1), 2], [3, 4]] {
            withUnsafeBytes(of: Int32(2)) { fvecs.append(contentsOf: $0) }
            for x in row { withUnsafeBytes(of: x) { fvecs.append(contentsOf: $0) } }
        }
        let fpath = temporaryPath("v.fvecs")
        defer { try? FileManager.default.removeItem(atPath: fpath) }
        FileManager.default.createFile(atPath: fpath, contents: fvecs)
        XCTAssertEqual(try MatrixFile.readFloats(fpath).storage, [1, 2, 3, 4])
    }

    func testMalformedFilesAreRefusedWithAReason() {
        let path = temporaryPath("bad.npy")
        defer { try? FileManager.default.removeItem(atPath: path) }
        FileManager.default.createFile(atPath: path, contents: Data("not numpy at all".utf8))
        XCTAssertThrowsError(try MatrixFile.readFloats(path)) { error in
            XCTAssertTrue((error as? VectorMathError)?.message.contains("bad magic") ?? false)
        }
        XCTAssertThrowsError(try MatrixFile.readFloats(temporaryPath("missing.npy")))
        var truncated = NPY.header(descr: "<f4", shape: [10, 10])
        truncated.append(contentsOf: [0, 0, 0, 0])
        FileManager.default.createFile(atPath: path, contents: truncated)
        XCTAssertThrowsError(try MatrixFile.readFloats(path)) { error in
            XCTAssertEqual((error as? VectorMathError)?.code, .invalidArgument)
        }
    }
}
