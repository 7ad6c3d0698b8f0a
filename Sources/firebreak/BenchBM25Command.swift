import ArgumentParser
import Dispatch
import Foundation
import Lexical

/// `firebreak bench bm25`: build a BM25 index from a JSONL corpus and measure it.
struct BenchBM25Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bm25",
        abstract: "Build a BM25 index from a JSONL corpus, run known-item queries, report speed and quality.",
        discussion: """
        Corpus lines: {"id", "title", "text"}; query lines: {"qid", "query", "relevant": [ids]}. \
        Prints one JSON object: build_seconds, index_bytes, documents, queries, qps (single \
        thread, one query per call, best of --repetitions), mrr_at_10, recall_at_10.

        --analyzer english (default) is Firebreak's analyzer: NFKC, lower case, letters and \
        digits, Lucene's English stop words, the Snowball English stemmer. --analyzer bm25s \
        reproduces bm25s's tokens (`\\w\\w+`, same stop words, PyStemmer), for comparing \
        scores one to one. Benchmarks/bm25_compare.py runs this beside tantivy and bm25s.
        """
    )

    @Option(help: "Corpus JSONL: {\"id\", \"title\", \"text\"} per line.") var corpus: String
    @Option(help: "Queries JSONL: {\"qid\", \"query\", \"relevant\": [ids]} per line.") var queries: String
    @Option(help: "Results per query.") var k: Int = 10
    @Option(help: "Fields to index, comma-separated: text, or title,text (indexed as one field).")
    var fields: String = "text"
    @Option(help: "english or bm25s.") var analyzer: String = "english"
    @Option(help: "BM25 term-frequency saturation.") var k1: Float = 1.2
    @Option(help: "BM25 length normalisation, 0...1.") var b: Float = 0.75
    @Option(help: "Timed passes over the queries; the fastest is reported.") var repetitions: Int = 3
    @Option(help: "Write each query's top-k ids and scores here (JSONL).") var dumpResults: String?
    @Option(help: "Save the built index here (index_bytes is measured by saving either way).") var save: String?

    struct Report: Encodable {
        let buildSeconds: Double
        let indexBytes: Int
        let documents: Int
        let queries: Int
        let qps: Double
        let mrrAt10: Double
        let recallAt10: Double
        let analyzer: String
        let terms: Int
        let averageDocumentLength: Double
        let emptyResults: Int

        enum CodingKeys: String, CodingKey {
            case buildSeconds, indexBytes, documents, queries, qps, analyzer, terms, averageDocumentLength, emptyResults
            case mrrAt10 = "mrr_at_10", recallAt10 = "recall_at_10"
        }
    }

    func run() throws {
        guard k >= 1, k <= LexicalIndex.kMax else { throw ValidationError("--k must be in 1...\(LexicalIndex.kMax)") }
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be ≥ 1") }
        let configuration: AnalyzerConfiguration
        switch analyzer {
        case "english": configuration = .english
        case "bm25s": configuration = .bm25sCompatible
        default: throw ValidationError("--analyzer must be english or bm25s")
        }
        let fieldList = fields.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !fieldList.isEmpty, fieldList.allSatisfy({ $0 == "title" || $0 == "text" }) else {
            throw ValidationError("--fields must be text, title or title,text")
        }
        let documents = try JSONLines.read(corpus, as: CorpusLine.self)
        let queryLines = try JSONLines.read(queries, as: QueryLine.self)
        Console.progress("read \(documents.count) documents and \(queryLines.count) queries")

        let index = try LexicalIndex(analyzer: configuration, parameters: BM25Parameters(k1: k1, b: b))
        let start = DispatchTime.now().uptimeNanoseconds
        try index.add(documents.enumerated().map { offset, line in
            (UInt64(offset), fieldList.map { $0 == "title" ? line.title ?? "" : line.text }.joined(separator: "\n"))
        })
        let buildSeconds = secondsSince(start)
        Console.progress("indexed in \(String(format: "%.2f", buildSeconds)) s: \(index.termCount) terms")
        let indexBytes = try measureIndexBytes(index)

        let texts = queryLines.map(\.query)
        var results: [LexicalResult] = []
        var best = Double.infinity
        for pass in 0..<repetitions {
            let passStart = DispatchTime.now().uptimeNanoseconds
            let passResults = try texts.map { try index.search($0, k: k) }
            best = min(best, secondsSince(passStart))
            if pass == 0 { results = passResults }
        }
        let quality = Quality(queries: queryLines, results: results, ids: documents.map(\.id))
        if let dumpResults { try dump(results, queries: queryLines, ids: documents.map(\.id), to: dumpResults) }
        try Console.printJSON(Report(
            buildSeconds: buildSeconds, indexBytes: indexBytes, documents: index.liveCount,
            queries: queryLines.count, qps: Double(queryLines.count) / best, mrrAt10: quality.mrr,
            recallAt10: quality.recall, analyzer: configuration.name, terms: index.termCount,
            averageDocumentLength: index.averageDocumentLength,
            emptyResults: results.filter { $0.hits.isEmpty }.count))
    }

    private func measureIndexBytes(_ index: LexicalIndex) throws -> Int {
        if let save { return try index.save(to: save) }
        let path = NSTemporaryDirectory() + "firebreak-bench-bm25-\(getpid()).fblex"
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try index.save(to: path)
    }

    private func dump(_ results: [LexicalResult], queries: [QueryLine], ids: [String], to path: String) throws {
        var out = Data()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        struct Line: Encodable { let qid: String; let ids: [String]; let scores: [Float] }
        for (query, result) in zip(queries, results) {
            out += try encoder.encode(Line(qid: query.qid, ids: result.hits.map { ids[Int($0.label)] },
                                           scores: result.hits.map(\.score)))
            out += Data("\n".utf8)
        }
        try out.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// MRR@10 and recall@10 over known-item queries.
struct Quality {
    var mrr = 0.0
    var recall = 0.0

    init(queries: [QueryLine], results: [LexicalResult], ids: [String]) {
        guard !queries.isEmpty else { return }
        for (query, result) in zip(queries, results) {
            let relevant = Set(query.relevant)
            let top = result.hits.prefix(10).map { ids[Int($0.label)] }
            if let rank = top.firstIndex(where: relevant.contains) { mrr += 1 / Double(rank + 1) }
            if !relevant.isEmpty { recall += Double(top.filter(relevant.contains).count) / Double(relevant.count) }
        }
        mrr /= Double(queries.count)
        recall /= Double(queries.count)
    }
}
