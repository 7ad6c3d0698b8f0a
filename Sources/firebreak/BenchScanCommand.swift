import ArgumentParser
import Foundation
import Engine
import HubScan
import VectorMath

/// `firebreak bench scan`: a whole HubScan against the machine's sgemm limit, in one process.
struct BenchScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Time a HubScan end to end (sampling, both searches, every detector) against sgemm.",
        discussion: """
        Prints {seconds, phases, search_flops, gflops_end_to_end, sgemm_gflops, \
        fraction_of_sgemm, peak_rss_bytes}. search_flops counts the 2·q·n·d multiply-adds of \
        both exact searches (the sample and its perturbed copy); sampling (k-means) and scoring \
        are in the time but not in the flops. sgemm_gflops is a square sgemm on all cores, \
        measured in the same process just before. Best of --repetitions scans. \
        Example (the issue's target: 100,000 × 384, 10,000 sampled queries, k = 10):
          firebreak bench scan --embeddings Benchmarks/data/S2_base.npy --metric cosine
        """
    )

    @Option(help: "Document embeddings (.npy float32/float16 or .fvecs).") var embeddings: String
    @Option(help: "documents, centroids, mixed or queries.") var sample: String = "mixed"
    @Option(help: "Sampled queries.") var sampleSize: Int = 10_000
    @Option(help: "Neighbours per query.") var k: Int = 10
    @Option(help: "l2, ip or cosine.") var metric: String = "cosine"
    @Option(help: "Timed scans; the best is reported.") var repetitions: Int = 2
    @Option(help: "exact or hnsw (the graph's build is timed apart, as build_seconds).") var search: String = "exact"
    @Option(help: "HNSW candidate list size for --search hnsw.") var ef: Int = HNSWNeighborSearch.efDefault

    struct Report: Encodable {
        let documents: Int
        let dimension: Int
        let queries: Int
        let seconds: Double
        let phases: ScanReport.Timings
        let searchFlops: Double
        let gflopsEndToEnd: Double
        let sgemmGflops: Double
        let fractionOfSgemm: Double
        let search: String
        let buildSeconds: Double
        let peakRssBytes: Int
    }

    func run() throws {
        guard let metric = Metric(name: metric) else { throw ValidationError("--metric must be l2, ip or cosine") }
        guard let kind = SampleKind(rawValue: sample), kind != .queries else {
            throw ValidationError("--sample must be documents, centroids or mixed")
        }
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be ≥ 1") }
        if let warning = BLAS.referenceWarning { Console.progress(warning) }
        var data = try MatrixFile.readFloats(embeddings)
        if metric == .cosine { try data.normalizeRows() }
        let sgemm = BLAS.measureSgemmGFLOPs(threads: ProcessInfo.processInfo.activeProcessorCount)
        Console.progress(String(format: "sgemm: %.1f GFLOP/s on all cores", sgemm))
        var options = HubScanner.Options()
        options.sample = kind
        options.sampleSize = sampleSize
        options.k = k
        let buildStart = Date()
        let searcher = try ScanCommand.searcher(search, data: data, metric: metric, ef: ef)
        let buildSeconds = searcher == nil ? 0 : Date().timeIntervalSince(buildStart)
        var best: ScanReport?
        for round in 1...repetitions {
            let report = try HubScanner.scan(data, metric: metric, search: searcher, options: options)
            Console.progress(String(format: "scan %d: %.2f s, %.1f GFLOP/s", round, report.timings.totalSeconds,
                                    report.timings.gflopsEndToEnd))
            if best == nil || report.timings.totalSeconds < best!.timings.totalSeconds { best = report }
        }
        let timings = best!.timings
        try Console.printJSON(Report(documents: data.rows, dimension: data.dimension, queries: best!.queries,
                                     seconds: timings.totalSeconds, phases: timings, searchFlops: timings.searchFlops,
                                     gflopsEndToEnd: timings.gflopsEndToEnd, sgemmGflops: sgemm,
                                     fractionOfSgemm: timings.gflopsEndToEnd / sgemm, search: search,
                                     buildSeconds: buildSeconds, peakRssBytes: Self.peakRSS()))
    }

    /// The process's peak resident set, in bytes (Linux reports ru_maxrss in KiB).
    static func peakRSS() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }
}
