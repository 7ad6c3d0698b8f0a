import DurableFile
import Foundation
import Lexical
import VectorMath
import XCTest

final class LexicalPersistenceTests: XCTestCase {
    private func sampleIndex() throws -> LexicalIndex {
        let corpus = RandomCorpus(documents: 800, seed: 3)
        let index = try LexicalIndex(analyzer: .english, parameters: BM25Parameters(k1: 0.9, b: 0.4))
        try index.add(corpus.texts.enumerated().map { (UInt64($0.offset) * 7, $0.element) })
        try index.add(label: 1_000_000, text: "Grüße aus Köln, ﬁles and ＦＩＬＥＳ")
        for label in stride(from: 0, to: 700, by: 49) { try index.delete(label: UInt64(label)) }
        return index
    }

    func testSaveThenLoadAnswersIdentically() throws {
        let index = try sampleIndex()
        let path = temporaryPath("roundtrip.fblex")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bytes = try index.save(to: path)
        XCTAssertEqual(bytes, try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let loaded = try LexicalIndex.load(from: path)
        XCTAssertEqual(loaded.analyzer.configuration, index.analyzer.configuration)
        XCTAssertEqual(loaded.parameters, index.parameters)
        XCTAssertEqual(loaded.liveCount, index.liveCount)
        XCTAssertEqual(loaded.documentCount, index.documentCount)
        var random = SplitMix64(seed: 5)
        for _ in 0..<40 {
            let query = RandomCorpus(documents: 0).query(terms: 4, random: &random)
            XCTAssertEqual(try loaded.search(query, k: 20), try index.search(query, k: 20), query)
        }
        XCTAssertEqual(try loaded.search("files köln", k: 3).hits.map(\.label), [1_000_000])
        XCTAssertEqual(try loaded.explain(label: 1_000_000, query: "files"), try index.explain(label: 1_000_000, query: "files"))
        // Loaded indexes keep accepting changes.
        try loaded.add(label: 5, text: "w1 w2 w3")
        try loaded.delete(label: 7)
        XCTAssertNil(loaded.integrityProblem())
    }

    func testCorruptedOrTruncatedFilesAreRefused() throws {
        let path = temporaryPath("corrupt.fblex")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try sampleIndex().save(to: path)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        func refused(_ bytes: Data, _ code: LexicalError.Code, _ what: String) throws {
            try bytes.write(to: URL(fileURLWithPath: path))
            XCTAssertLexicalError(code) { _ = try LexicalIndex.load(from: path) }
        }
        for offset in [70, good.count / 2, good.count - 20] {
            var flipped = good
            flipped[offset] ^= 0x40
            try refused(flipped, .fileCorrupted, "bit flip at \(offset)")
        }
        try refused(good.prefix(good.count - 100), .fileTruncated, "truncated")
        try refused(good.prefix(10), .fileTruncated, "stub")
        var magic = good
        magic[0] = 0x58
        try refused(magic, .fileCorrupted, "magic")
        var version = good
        version[8] = 9
        try refused(version, .unsupportedVersion, "version")
        XCTAssertLexicalError(.io) { _ = try LexicalIndex.load(from: "/nonexistent/\(getpid()).fblex") }
    }

    /// A save that fails at write, fsync or rename leaves the previous file intact.
    func testInjectedFaultsLeaveThePreviousFile() throws {
        let folder = temporaryPath("faults")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/index.fblex"
        let old = try LexicalIndex()
        try old.add(label: 1, text: "old content")
        try old.save(to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let new = try sampleIndex()
        for fault in [FileFault.write, .fsync, .rename] {
            FaultInjection.failing = fault
            XCTAssertLexicalError(.io) { try new.save(to: path) }
            FaultInjection.failing = nil
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before, "\(fault)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["index.fblex"], "\(fault)")
        }
        XCTAssertEqual(try LexicalIndex.load(from: path).liveCount, 1)
    }
}
