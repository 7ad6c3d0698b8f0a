import Foundation
@testable import Lexical
import XCTest

final class EnglishStemmerTests: XCTestCase {
    /// Every pair in the reference file (7,000+ words from the installed manual pages plus
    /// every special case), produced by PyStemmer 3.1 (Snowball 3.0.0); regenerate with
    /// `Data/make_stemmer_reference.py`.
    func testMatchesTheSnowballReferenceWordForWord() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Data/porter2-reference.tsv").path
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 5_000)
        let stemmer = EnglishStemmer()
        var mismatches: [String] = []
        for line in lines {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            XCTAssertEqual(fields.count, 2, "malformed line \(line)")
            let stem = stemmer.stem(String(fields[0]))
            if stem != fields[1] { mismatches.append("\(fields[0]): expected \(fields[1]), got \(stem)") }
        }
        XCTAssertEqual(mismatches.count, 0, mismatches.prefix(40).joined(separator: "\n"))
    }

    func testShortAndNonASCIIWordsAreSafe() {
        let stemmer = EnglishStemmer()
        XCTAssertEqual(stemmer.stem(""), "")
        XCTAssertEqual(stemmer.stem("a"), "a")
        XCTAssertEqual(stemmer.stem("'"), "'")
        XCTAssertEqual(stemmer.stem("naïvely"), "naïv")
        XCTAssertEqual(stemmer.stem("日本語"), "日本語")
        XCTAssertEqual(stemmer.stem("yyy"), "yyy")
    }
}
