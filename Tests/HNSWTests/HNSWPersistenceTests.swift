import DurableFile
import Foundation
@testable import HNSW
import VectorMath
import XCTest

final class HNSWPersistenceTests: XCTestCase {
    func testSaveLoadGivesIdenticalResults() throws {
        let fixture = try Fixture(rows: 3_000, dimension: 16, metric: .cosine, queries: 50)
        try fixture.index.delete(label: 17)
        let path = temporaryPath("roundtrip.fbhnsw")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bytes = try fixture.index.save(to: path)
        XCTAssertEqual(bytes, Int((try FileManager.default.attributesOfItem(atPath: path))[.size] as! UInt64))
        let loaded = try HNSWIndex.load(from: path)
        XCTAssertNil(loaded.integrityProblem())
        XCTAssertEqual(loaded.parameters, fixture.index.parameters)
        XCTAssertEqual(loaded.count, fixture.index.count)
        XCTAssertEqual(loaded.deletedCount, 1)
        for q in 0..<fixture.queries.rows {
            XCTAssertEqual(try loaded.search(fixture.queries.row(q), k: 10),
                           try fixture.index.search(fixture.queries.row(q), k: 10))
        }
        XCTAssertEqual(loaded.vector(forLabel: 5), fixture.index.vector(forLabel: 5))
        let stored = try XCTUnwrap(loaded.vector(forLabel: 5))
        XCTAssertEqual(Kernels.dot(stored, stored, 16), 1, accuracy: 1e-5, "cosine vectors are stored normalised")
        XCTAssertNil(loaded.vector(forLabel: 1_000_000))
        try loaded.add(fixture.queries.row(0), label: 99_999)
        XCTAssertNil(loaded.integrityProblem(), "a loaded index accepts inserts")
    }

    func testEmptyIndexRoundTrips() throws {
        let index = try HNSWIndex(parameters: HNSWParameters(dimension: 5, metric: .innerProduct))
        let path = temporaryPath("empty.fbhnsw")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try index.save(to: path)
        let loaded = try HNSWIndex.load(from: path)
        XCTAssertEqual(loaded.count, 0)
        XCTAssertEqual(try loaded.search([1, 2, 3, 4, 5], k: 3), [])
    }

    /// Truncation at many points and a flipped bit anywhere are refused, naming the problem.
    func testTruncatedAndCorruptedFilesAreRefused() throws {
        let fixture = try Fixture(rows: 500, dimension: 8, queries: 1)
        let path = temporaryPath("source.fbhnsw")
        let damaged = temporaryPath("damaged.fbhnsw")
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: damaged)
        }
        try fixture.index.save(to: path)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        for length in [0, 10, 127, 200, original.count / 2, original.count - 1] {
            try original.prefix(length).write(to: URL(fileURLWithPath: damaged))
            XCTAssertThrowsError(try HNSWIndex.load(from: damaged), "truncated to \(length)") { error in
                let code = (error as? HNSWError)?.code
                XCTAssertTrue(code == .fileTruncated || code == .fileCorrupted, "\(error)")
            }
        }
        var rng = SplitMix64(seed: 5)
        // Random positions, plus every byte of the header and of the footer.
        let positions = (0..<40).map { _ in Int(rng.next() % UInt64(original.count)) }
            + Array(0..<HNSWFileFormat.headerBytes) + Array((original.count - HNSWFileFormat.footerBytes)..<original.count)
        for position in positions {
            var bytes = original
            bytes[position] ^= UInt8(1 << (rng.next() % 8))
            try bytes.write(to: URL(fileURLWithPath: damaged))
            XCTAssertThrowsError(try HNSWIndex.load(from: damaged), "bit flip at \(position)") { error in
                XCTAssertNotNil(error as? HNSWError)
            }
        }
    }

    func testWrongMagicAndFutureVersionsAreNamed() throws {
        let fixture = try Fixture(rows: 50, dimension: 4, queries: 1)
        let path = temporaryPath("version.fbhnsw")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try fixture.index.save(to: path)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[8] = 2
        try bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertHNSWError(.unsupportedVersion) { _ = try HNSWIndex.load(from: path) }
        bytes[0] = UInt8(ascii: "X")
        try bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertHNSWError(.fileCorrupted) { _ = try HNSWIndex.load(from: path) }
        XCTAssertHNSWError(.io) { _ = try HNSWIndex.load(from: temporaryPath("does-not-exist")) }
    }

    /// The header encodes to exactly its documented size and decodes to itself.
    func testHeaderLayoutIsFixed() {
        let header = HNSWFileFormat.Header(dimension: 384, metric: 3, m: 16, efConstruction: 200, efSearch: 64,
                                           topLevel: 4, count: 100_000, deletedCount: 3, entryPoint: 77,
                                           upperWords: 1234, recordBytes: 1668, seed: 100)
        let bytes = header.encoded()
        XCTAssertEqual(bytes.count, HNSWFileFormat.headerBytes)
        XCTAssertEqual(bytes.withUnsafeBytes { HNSWFileFormat.Header(decoding: $0) }, header)
    }

    /// A save that cannot write leaves no file and no temporary behind.
    func testFailedSaveLeavesNothingBehind() throws {
        let fixture = try Fixture(rows: 20, dimension: 4, queries: 1)
        let path = "/nonexistent-folder-\(getpid())/index.fbhnsw"
        XCTAssertHNSWError(.io) { try fixture.index.save(to: path) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    /// Tantivy-style failpoints: a save that fails at write, fsync or rename leaves the previous
    /// file loadable and unchanged, and no temporary file behind.
    func testInjectedFaultsNeverLeaveAHalfWrittenFile() throws {
        let old = try Fixture(rows: 100, dimension: 4, queries: 1, seed: 1)
        let new = try Fixture(rows: 300, dimension: 4, queries: 1, seed: 2)
        let folder = temporaryPath("faults")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/index.fbhnsw"
        try old.index.save(to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        for fault in [FileFault.write, .fsync, .rename] {
            FaultInjection.failing = fault
            XCTAssertHNSWError(.io) { try new.index.save(to: path) }
            FaultInjection.failing = nil
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before, "\(fault)")
            XCTAssertEqual(try HNSWIndex.load(from: path).count, 100, "\(fault)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["index.fbhnsw"], "\(fault)")
        }
        try new.index.save(to: path)
        XCTAssertEqual(try HNSWIndex.load(from: path).count, 300)
    }
}
