import ArgumentParser
import Foundation
import Engine
import HNSW
import HubScan
import VectorMath

/// `firebreak scan`: a HubScan over an embeddings file, no server needed.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Find adversarial hubs in a collection of embeddings; prints a JSON report.",
        discussion: """
        Samples queries (documents, k-means centroids, a mix, or real queries; real queries given \
        with --queries always join the sample), finds each query's exact top-k with BLAS, and \
        scores every document by robust z of its rank-weighted hits, with the spread of topics \
        its retrieving queries come from. Flags z > --threshold, plus the top --budget fraction. \
        With --screen, also scores new vectors before ingestion: how many sampled queries each \
        would enter the top-k of, as a z on the collection's hit distribution. \
        Every sampled query is also nudged and searched again (the stability detector); with \
        --domains, every domain is scanned on its own as well (a hub aimed at one topic stands \
        out there). --all-scores adds the combined score and every detector's z for every row. \
        Calibration and recall on planted hubs: Benchmarks/hubscan_detect.py. \
        Example:
          firebreak scan --embeddings docs.npy --queries recent-queries.npy --metric cosine --budget 0.002
        """
    )

    @Option(help: "Document embeddings (.npy float32/float16 or .fvecs).") var embeddings: String
    @Option(help: "Real query vectors; they join every sample.") var queries: String?
    @Option(help: "documents, centroids, mixed or queries.") var sample: String = "mixed"
    @Option(help: "Sampled queries (besides real ones).") var sampleSize: Int = 10_000
    @Option(help: "Neighbours per query.") var k: Int = 10
    @Option(help: "Flag documents whose hubness z exceeds this.") var threshold: Double = 5.0
    @Option(help: "Also flag this top fraction by combined score, e.g. 0.002 for 0.2 %.") var budget: Double?
    @Option(help: "l2, ip or cosine.") var metric: String = "cosine"
    @Option(help: "Seed: the same seed gives the same report.") var seed: UInt64 = 1
    @Option(help: "One domain label per document row (a text file, one line per row): adds the domain-scoped detector.")
    var domains: String?
    @Option(help: "exact (BLAS, the default) or hnsw: build a graph and take top-k lists from it, for collections too large for exact search.")
    var search: String = "exact"
    @Option(help: "HNSW candidate list size for --search hnsw.") var ef: Int = HNSWNeighborSearch.efDefault
    @Option(help: "New vectors to screen before ingestion (.npy).") var screen: String?
    @Flag(help: "Include every row's combined score in the report.") var allScores = false
    @Flag(help: "Compact one-line JSON.") var json = false

    struct Output: Encodable {
        let report: ScanReport
        let screen: [IngestScreen.Verdict]?
    }

    func run() throws {
        guard let metric = Metric(name: metric) else { throw ValidationError("--metric must be l2, ip or cosine") }
        guard let kind = SampleKind(rawValue: sample) else {
            throw ValidationError("--sample must be one of \(SampleKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let warning = BLAS.referenceWarning { Console.progress(warning) }
        let data = try prepared(MatrixFile.readFloats(embeddings), metric)
        let real = try queries.map { try prepared(MatrixFile.readFloats($0), metric) }
        Console.progress("scanning \(data.rows) × \(data.dimension) with \(sampleSize) sampled queries"
            + (real.map { " + \($0.rows) real" } ?? ""))
        var options = HubScanner.Options()
        options.sample = kind
        options.sampleSize = sampleSize
        options.k = k
        options.threshold = threshold
        options.budget = budget
        options.seed = seed
        options.includeAllScores = allScores
        let labels = try domains.map { try DomainLabels(Self.readLabels($0), rows: data.rows) }
        let searcher = try Self.searcher(search, data: data, metric: metric, ef: ef)
        let (report, ingestScreen) = try HubScanner.scanWithScreen(data, metric: metric, realQueries: real, domains: labels,
                                                                   search: searcher, options: options)
        Console.progress(String(format: "scan took %.2f s; %d flagged", report.timings.totalSeconds, report.flagged.count))
        var verdicts: [IngestScreen.Verdict]?
        if let screen {
            let batch = try prepared(MatrixFile.readFloats(screen), metric)
            verdicts = try ingestScreen.screen(batch)
            Console.progress("screened \(batch.rows) new vectors; \(verdicts!.filter { $0.z > threshold }.count) above the threshold")
        }
        try Console.printJSON(Output(report: report, screen: verdicts), pretty: !json)
    }

    /// nil for exact search; for "hnsw", a graph built over the rows (labels = row numbers).
    static func searcher(_ name: String, data: Matrix, metric: Metric, ef: Int) throws -> (any NeighborSearch)? {
        switch name {
        case "exact": return nil
        case "hnsw":
            guard (1...HNSWIndex.kMax).contains(ef) else { throw ValidationError("--ef must be in 1...\(HNSWIndex.kMax)") }
            Console.progress("building an HNSW graph over \(data.rows) rows for the scan's searches")
            return try HNSWNeighborSearch.build(data, metric: metric, ef: ef)
        default: throw ValidationError("--search must be exact or hnsw")
        }
    }

    /// One label per line; a trailing newline does not add a row.
    static func readLabels(_ path: String) throws -> [String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    private func prepared(_ matrix: Matrix, _ metric: Metric) throws -> Matrix {
        var copy = matrix
        if metric == .cosine { try copy.normalizeRows() }
        return copy
    }
}
