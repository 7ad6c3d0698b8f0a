import Foundation
import Lexical
import VectorMath
import XCTest

final class LexicalSearchTests: XCTestCase {
    let plain = AnalyzerConfiguration(stopWords: .none, stems: false)

    /// Four documents, scores worked out by hand from the Lucene formula.
    func testScoresEqualHandComputedBM25() throws {
        let index = try LexicalIndex(analyzer: plain)
        try index.add([(1, "apple banana apple"), (2, "banana cherry"),
                       (3, "cherry cherry cherry date"), (4, "apple date elder fig")])
        // N = 4, avgdl = 13 / 4 = 3.25; df(apple) = df(cherry) = 2, so idf = ln(1 + 2.5/2.5) = ln 2.
        let idf = log(2.0), k1 = 1.2, b = 0.75, avgdl = 3.25
        func part(tf: Double, dl: Double) -> Double { idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)) }
        let expected: [UInt64: Double] = [
            1: part(tf: 2, dl: 3), 2: part(tf: 1, dl: 2), 3: part(tf: 3, dl: 4), 4: part(tf: 1, dl: 4),
        ]
        let result = try index.search("apple cherry", k: 10)
        XCTAssertEqual(result.hits.count, 4)
        for hit in result.hits {
            XCTAssertEqual(Double(hit.score), expected[hit.label]!, accuracy: 1e-5, "label \(hit.label)")
        }
        XCTAssertEqual(result.hits.map(\.label), expected.sorted { $0.value > $1.value }.map(\.key))
        let explanation = try index.explain(label: 3, query: "apple cherry")
        XCTAssertEqual(explanation.terms.map(\.term), ["cherry"])
        XCTAssertEqual(explanation.terms[0].termFrequency, 3)
        XCTAssertEqual(Double(explanation.terms[0].idf), idf, accuracy: 1e-6)
        XCTAssertEqual(Double(explanation.terms[0].lengthNorm), 1 - b + b * 4 / avgdl, accuracy: 1e-6)
        XCTAssertEqual(Double(explanation.score), expected[3]!, accuracy: 1e-5)
    }

    /// MaxScore must return what scoring every document would, filters and deletes included.
    func testPrunedTopKEqualsExhaustiveScoring() throws {
        let corpus = RandomCorpus(documents: 3_000)
        let index = try LexicalIndex(analyzer: plain)
        try index.add(corpus.texts.enumerated().map { (UInt64($0.offset), $0.element) })
        var random = SplitMix64(seed: 99)
        let deleted = Set((0..<150).map { _ in Int(random.next() % 3_000) })
        for d in deleted { try index.delete(label: UInt64(d)) }
        let excluded = Set((0..<300).map { _ in UInt64(random.next() % 3_000) })
        let filter = index.filter(excluding: excluded)
        let oracle = BM25Oracle(texts: corpus.texts, analyzer: index.analyzer, deleted: deleted)
        for round in 0..<60 {
            let query = corpus.query(terms: 1 + round % 8, random: &random)
            let k = [1, 10, 100][round % 3]
            let useFilter = round % 2 == 0
            let hits = try index.search(query, k: k, filter: useFilter ? filter : nil).hits
            let scores = oracle.scores(index.analyzer.terms(query))
                .filter { !useFilter || !excluded.contains(UInt64($0.key)) }
            let best = scores.values.sorted(by: >)
            XCTAssertEqual(hits.count, min(k, best.count), query)
            for (rank, hit) in hits.enumerated() {
                let truth = try XCTUnwrap(scores[Int(hit.label)], "\(hit.label) should not match \(query)")
                XCTAssertEqual(Double(hit.score), truth, accuracy: 1e-4 * truth, query)
                XCTAssertEqual(Double(hit.score), best[rank], accuracy: 1e-4 * best[rank], "rank \(rank) of \(query)")
            }
        }
    }

    func testExcludedDocumentsNeverAppearOrDisplaceAllowedOnes() throws {
        let index = try LexicalIndex(analyzer: plain)
        // Ten documents that match "poison" strongly, ten that match it weakly.
        try index.add((0..<10).map { (UInt64($0), "poison poison poison") }
            + (10..<20).map { (UInt64($0), "poison plus many other honest words here") })
        let filter = index.filter(excluding: 0..<10)
        let hits = try index.search("poison", k: 10, filter: filter).hits
        XCTAssertEqual(Set(hits.map(\.label)), Set(10..<20))
        let tenant = index.filter(allowing: [3, 15])
        XCTAssertEqual(Set(try index.search("poison", k: 10, filter: tenant).hits.map(\.label)), [3, 15])
        // A filter built before a later add does not admit the new document.
        try index.add(label: 99, text: "poison")
        XCTAssertFalse(try index.search("poison", k: 30, filter: filter).hits.contains { $0.label == 99 })
        XCTAssertTrue(try index.search("poison", k: 30).hits.contains { $0.label == 99 })
    }

    func testAddAndDeleteAreVisibleAtOnceWithStatistics() throws {
        let index = try LexicalIndex(analyzer: plain)
        try index.add([(1, "red fox"), (2, "blue fox"), (3, "green turtle")])
        XCTAssertEqual(try index.search("turtle", k: 5).hits.map(\.label), [3])
        try index.delete(label: 3)
        XCTAssertEqual(try index.search("turtle", k: 5).emptyReason, .noMatchingTerms)
        XCTAssertEqual(index.liveCount, 2)
        // After the delete, scores equal those of an index that never held document 3.
        let fresh = try LexicalIndex(analyzer: plain)
        try fresh.add([(1, "red fox"), (2, "blue fox")])
        XCTAssertEqual(try index.search("red fox", k: 5).hits.map(\.score), try fresh.search("red fox", k: 5).hits.map(\.score))
        try index.add(label: 3, text: "turtle turtle")
        XCTAssertEqual(try index.search("turtle", k: 5).hits.map(\.label), [3])
        XCTAssertNil(index.integrityProblem())
    }

    /// A copy keeps answering as the original did when it was taken, with the same scores.
    func testACopyIsFrozenAtTheMomentItWasTaken() throws {
        let index = try LexicalIndex(analyzer: plain)
        try index.add([(1, "red fox"), (2, "blue fox"), (3, "green turtle")])
        let before = try index.search("fox turtle", k: 5).hits
        let copy = LexicalIndex(copying: index)
        try index.delete(label: 3)
        try index.add(label: 4, text: "fox fox fox")
        let after = try copy.search("fox turtle", k: 5).hits
        XCTAssertEqual(after.map(\.label), before.map(\.label))
        XCTAssertEqual(after.map(\.score), before.map(\.score))
        XCTAssertEqual(copy.liveCount, 3)
        XCTAssertNil(copy.integrityProblem())
        XCTAssertEqual(try index.search("fox", k: 1).hits.first?.label, 4, "the original moved on")
    }

    func testBadInputIsRefusedOrExplainedWithoutChangingTheIndex() throws {
        let index = try LexicalIndex()
        try index.add(label: 1, text: "the quick brown fox")
        XCTAssertEqual(try index.search("", k: 10).emptyReason, .emptyQuery)
        XCTAssertEqual(try index.search("  ,;!  ", k: 10).emptyReason, .emptyQuery)
        XCTAssertEqual(try index.search("the and of", k: 10).emptyReason, .onlyStopWords)
        XCTAssertEqual(try index.search("zebra", k: 10).emptyReason, .noMatchingTerms)
        XCTAssertLexicalError(.invalidUTF8) { _ = try index.search(utf8: [0x66, 0x6f, 0xff, 0xfe], k: 10) }
        XCTAssertLexicalError(.queryTooLong) { _ = try index.search(String(repeating: "fox ", count: 250_000), k: 10) }
        XCTAssertLexicalError(.queryTooLong) { _ = try index.search(utf8: [UInt8](repeating: 0x61, count: 1 << 20), k: 10) }
        XCTAssertLexicalError(.invalidK) { _ = try index.search("fox", k: 0) }
        XCTAssertLexicalError(.invalidK) { _ = try index.search("fox", k: 1_000_000) }
        XCTAssertLexicalError(.duplicateLabel) { try index.add(label: 1, text: "again") }
        XCTAssertLexicalError(.duplicateLabel) { try index.add([(2, "a"), (2, "b")]) }
        XCTAssertLexicalError(.unknownLabel) { try index.delete(label: 42) }
        XCTAssertLexicalError(.invalidParameter) { _ = try LexicalIndex(parameters: BM25Parameters(k1: .nan)) }
        XCTAssertLexicalError(.invalidParameter) { _ = try LexicalIndex(parameters: BM25Parameters(b: 1.5)) }
        XCTAssertEqual(index.liveCount, 1, "a refused batch adds nothing")
        XCTAssertEqual(try index.search("quick", k: 10).hits.map(\.label), [1])
        XCTAssertEqual(try LexicalIndex().search("fox", k: 1).emptyReason, .emptyIndex)
    }
}
