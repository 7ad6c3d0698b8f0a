import ArgumentParser
import Foundation
import VectorMath

/// `firebreak bench exact`: batched exact k-NN against the machine's sgemm limit.
struct BenchExactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exact",
        abstract: "Time batched exact k-NN (sgemm tiles + per-row top-k) and compare with raw sgemm.",
        discussion: """
        Prints {seconds, gflops, sgemm_gflops, fraction_of_sgemm}. gflops counts the 2·q·n·d \
        multiply-adds of the score matrix; sgemm_gflops is a square sgemm on all cores, the \
        machine's practical limit. Best of --repetitions runs.
        """
    )

    @Option(help: "Base vectors (.npy or .fvecs).") var base: String
    @Option(help: "Query vectors (.npy or .fvecs).") var queries: String
    @Option(help: "l2, ip or cosine.") var metric: String = "l2"
    @Option(help: "Neighbours per query.") var k: Int = 10
    @Option(help: "Worker threads.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Timed runs; the best is reported.") var repetitions: Int = 3

    struct Report: Encodable {
        let seconds: Double
        let gflops: Double
        let sgemmGflops: Double
        let fractionOfSgemm: Double
    }

    func run() throws {
        guard let metric = Metric(name: metric) else { throw ValidationError("--metric must be l2, ip or cosine") }
        guard repetitions >= 1, threads >= 1 else { throw ValidationError("--repetitions and --threads must be ≥ 1") }
        if let warning = BLAS.referenceWarning { Console.progress(warning) }
        var baseMatrix = try MatrixFile.readFloats(base)
        var queryMatrix = try MatrixFile.readFloats(queries)
        if metric == .cosine {
            try baseMatrix.normalizeRows()
            try queryMatrix.normalizeRows()
        }
        let sgemm = BLAS.measureSgemmGFLOPs(threads: ProcessInfo.processInfo.activeProcessorCount)
        var best: KNNResult?
        for _ in 0..<repetitions {
            let result = try ExactSearch.search(queries: queryMatrix, base: baseMatrix, k: k, metric: metric,
                                                threads: threads)
            if best == nil || result.seconds < best!.seconds { best = result }
        }
        try Console.printJSON(Report(seconds: best!.seconds, gflops: best!.gflops, sgemmGflops: sgemm,
                                     fractionOfSgemm: best!.gflops / sgemm))
    }
}
