import Foundation
import Lexical
import VectorMath
import XCTest

/// A seeded random corpus with a Zipf-like vocabulary, large enough that frequent terms
/// span many 128-posting blocks.
struct RandomCorpus {
    let texts: [String]
    let vocabulary: [String]

    init(documents: Int, vocabulary size: Int = 400, seed: UInt64 = 7) {
        var random = SplitMix64(seed: seed)
        vocabulary = (0..<size).map { "w\($0)" }
        // Zipf: word i drawn with probability ∝ 1/(i+1).
        var cumulative: [Double] = []
        var sum = 0.0
        for i in 0..<size { sum += 1 / Double(i + 1); cumulative.append(sum) }
        texts = (0..<documents).map { _ in
            let length = 3 + Int(random.next() % 60)
            return (0..<length).map { _ in
                let u = Double(random.next() % 1_000_000) / 1_000_000 * sum
                return "w\(cumulative.firstIndex { $0 >= u } ?? size - 1)"
            }.joined(separator: " ")
        }
    }

    func query(terms: Int, random: inout SplitMix64) -> String {
        (0..<terms).map { _ in vocabulary[Int(random.next() % UInt64(vocabulary.count / 2))] }
            .joined(separator: " ")
    }
}

/// BM25 computed from scratch, document by document, for checking the index against.
struct BM25Oracle {
    let termCounts: [[String: Int]]
    let lengths: [Int]
    let live: [Bool]
    let k1 = 1.2, b = 0.75

    init(texts: [String], analyzer: Analyzer, deleted: Set<Int> = []) {
        let terms = texts.map(analyzer.terms)
        termCounts = terms.map { $0.reduce(into: [:]) { $0[$1, default: 0] += 1 } }
        lengths = terms.map(\.count)
        live = texts.indices.map { !deleted.contains($0) }
    }

    func scores(_ queryTerms: [String]) -> [Int: Double] {
        let n = live.filter { $0 }.count
        let average = Double(zip(lengths, live).filter(\.1).map(\.0).reduce(0, +)) / Double(n)
        var result: [Int: Double] = [:]
        let counts = queryTerms.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
        for (term, queryCount) in counts {
            let df = termCounts.indices.filter { live[$0] && termCounts[$0][term] != nil }.count
            guard df > 0 else { continue }
            let idf = log(1 + (Double(n - df) + 0.5) / (Double(df) + 0.5))
            for d in termCounts.indices where live[d] {
                guard let tf = termCounts[d][term].map(Double.init) else { continue }
                let norm = k1 * (1 - b + b * Double(lengths[d]) / average)
                result[d, default: 0] += Double(queryCount) * idf * tf * (k1 + 1) / (tf + norm)
            }
        }
        return result
    }
}

func XCTAssertLexicalError(_ code: LexicalError.Code, file: StaticString = #filePath, line: UInt = #line,
                           _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected \(code), nothing was thrown", file: file, line: line)
    } catch let error as LexicalError {
        XCTAssertEqual(error.code, code, error.message, file: file, line: line)
    } catch {
        XCTFail("expected LexicalError.\(code), got \(error)", file: file, line: line)
    }
}

func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory() + "firebreak-lexical-\(getpid())-\(name)"
}
