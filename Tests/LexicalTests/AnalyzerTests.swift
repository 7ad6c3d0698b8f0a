import Lexical
import XCTest

final class AnalyzerTests: XCTestCase {
    func testEnglishAnalyzerFoldsSplitsStopsAndStems() {
        let analyzer = Analyzer(.english)
        XCTAssertEqual(analyzer.terms("The Running dogs, of course!"), ["run", "dog", "cours"])
        // NFKC: the "ﬁ" ligature and full-width letters fold to ASCII before lower-casing.
        XCTAssertEqual(analyzer.terms("ﬁles ＦＩＬＥＳ"), ["file", "file"])
        XCTAssertEqual(analyzer.terms("pthread_create(3) O_NONBLOCK"), ["pthread", "creat", "3", "o", "nonblock"])
        XCTAssertEqual(analyzer.terms("Grüße aus Köln"), ["grüße", "aus", "köln"])
        XCTAssertEqual(analyzer.terms(""), [])
    }

    /// The bm25s-compatible pattern keeps underscores and drops one-character tokens, as
    /// `re.findall(r"(?u)\b\w\w+\b", text.lower())` does.
    func testBM25sCompatiblePatternMatchesScikitLearnTokens() {
        let analyzer = Analyzer(.bm25sCompatible)
        XCTAssertEqual(analyzer.terms("pthread_create(3) sets O_NONBLOCK, a flag"),
                       ["pthread_creat", "set", "o_nonblock", "flag"])
    }

    func testConfigurationsCanTurnStopWordsAndStemmingOff() {
        let analyzer = Analyzer(AnalyzerConfiguration(stopWords: .none, stems: false))
        XCTAssertEqual(analyzer.terms("The Running dogs"), ["the", "running", "dogs"])
        XCTAssertNotEqual(AnalyzerConfiguration.english.name, AnalyzerConfiguration.bm25sCompatible.name)
    }

    func testInvalidUTF8IsATypedError() {
        XCTAssertLexicalError(.invalidUTF8) { _ = try Analyzer().terms(utf8: [0xc3, 0x28]) }
        XCTAssertEqual(try Analyzer().terms(utf8: Array("dogs".utf8)), ["dog"])
    }

    func testReciprocalRankFusion() {
        let fused = RankFusion.reciprocalRank([[1, 2, 3], [3, 4]], k: 10)
        // 3 is rank 3 and rank 1: 1/63 + 1/61 beats 1's 1/61.
        XCTAssertEqual(fused.map(\.label), [3, 1, 2, 4])
        XCTAssertEqual(fused[0].score, 1.0 / 63 + 1.0 / 61, accuracy: 1e-12)
        XCTAssertEqual(fused[0].ranks, [3, 1])
        XCTAssertEqual(RankFusion.reciprocalRank([[1, 2], []], k: 1).map(\.label), [1])
        XCTAssertEqual(RankFusion.reciprocalRank([[5], [6]], k: 10, constant: 0).map(\.label), [5, 6])
    }
}
