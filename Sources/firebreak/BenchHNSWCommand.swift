import ArgumentParser
import Dispatch
import Foundation
import HNSW
import VectorMath

/// `firebreak bench hnsw`: build, save, then search at several ef values, single-threaded,
/// one query per call (the pattern of a service answering requests), against exact ground truth.
struct BenchHNSWCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hnsw",
        abstract: "Build an HNSW index and report recall and QPS per ef against exact search.",
        discussion: """
        Reads .npy (float32/float16) or .fvecs matrices. Without --ground-truth, exact k-NN is \
        computed with BLAS (over the allowed rows when --exclude-ids is given). Progress goes to \
        stderr; stdout is one JSON object:
          {build_seconds, build_threads, index_bytes, blas: {library, sgemm_gflops},
           exact: {seconds, gflops}, runs: [{ef, recall, qps, short_queries, excluded_returned}]}
        Example:
          firebreak bench hnsw --base base.npy --queries queries.npy --metric l2 --ef-search 16,32,64
        """
    )

    @Option(help: "Base vectors (.npy or .fvecs).") var base: String?
    @Option(help: "Query vectors (.npy or .fvecs).") var queries: String?
    @Option(help: "Instead of files: ROWSxDIM seeded Gaussian clusters (100 clusters, 1,000 queries), e.g. 20000x64.")
    var synthetic: String?
    @Option(help: "Exact neighbour ids per query (.npy int or .ivecs); computed when omitted.")
    var groundTruth: String?
    @Option(help: "l2, ip or cosine.") var metric: String = "l2"
    @Option(help: "Graph degree M (level 0 gets 2M).") var m: Int = 16
    @Option(help: "Candidate list while building.") var efConstruction: Int = 200
    @Option(help: "Comma-separated candidate list sizes to search with.")
    var efSearch: String = "10,16,24,32,48,64,96,128,192,256"
    @Option(help: "Neighbours per query.") var k: Int = 10
    @Option(help: "Build threads (searches are single-threaded).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Row ids (.npy int) that every search must exclude, as a quarantine would.")
    var excludeIds: String?
    @Option(help: "Exclude this percentage of rows, drawn with a fixed seed (instead of --exclude-ids).")
    var excludePercent: Int?
    @Option(help: "Timed passes over the queries per ef; the best is reported.") var repetitions: Int = 3
    @Option(help: "Keep the saved index at this path (default: a temporary file, removed).")
    var save: String?
    @Option(help: ArgumentHelp("Write the labels every ef returned here, for a recall computed outside (ties).",
                               discussion: "Raw little-endian int64, ef-major then query-major, k per query, -1 where fewer came back."))
    var labelsOut: String?

    struct Run: Encodable {
        let ef: Int
        let recall: Double
        let qps: Double
        let shortQueries: Int
        let excludedReturned: Int
    }

    struct Report: Encodable {
        let buildSeconds: Double
        let buildThreads: Int
        let indexBytes: Int
        let saveSeconds: Double
        let loadSeconds: Double
        let blas: BLASSummary
        let exact: ExactSummary
        let runs: [Run]
    }

    struct BLASSummary: Encodable {
        let library: String
        let sgemmGflops: Double
    }

    struct ExactSummary: Encodable {
        let seconds: Double
        let gflops: Double
    }

    func validate() throws {
        guard (synthetic != nil) != (base != nil || queries != nil), synthetic != nil || (base != nil && queries != nil) else {
            throw ValidationError("give either --base and --queries, or --synthetic ROWSxDIM")
        }
        if let synthetic, syntheticShape(synthetic) == nil {
            throw ValidationError("--synthetic takes ROWSxDIM with positive numbers, e.g. 20000x64")
        }
        if let excludePercent, !(0...99).contains(excludePercent) || excludeIds != nil {
            throw ValidationError("--exclude-percent takes 0...99 and cannot be combined with --exclude-ids")
        }
        guard Metric(name: metric) != nil else { throw ValidationError("--metric must be l2, ip or cosine") }
        guard k >= 1 else { throw ValidationError("--k must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1") }
        guard !efValues.isEmpty, efValues.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--ef-search must be a comma-separated list of positive integers")
        }
    }

    var efValues: [Int] { efSearch.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func run() throws {
        if let warning = BLAS.referenceWarning { Console.progress(warning) }
        let metric = Metric(name: metric)!
        let (baseMatrix, queryMatrix) = try inputs(metric: metric)
        Console.progress("\(baseMatrix.rows) × \(baseMatrix.dimension) base, \(queryMatrix.rows) queries")
        let excluded = try excludedRows(count: baseMatrix.rows)
        let sgemm = BLAS.measureSgemmGFLOPs(threads: ProcessInfo.processInfo.activeProcessorCount)

        let (truth, exact) = try groundTruthRows(base: baseMatrix, queries: queryMatrix, metric: metric, excluded: excluded)
        let (index, buildSeconds) = try build(baseMatrix, metric: metric)
        let (indexBytes, saveSeconds, loadSeconds, loaded) = try saveAndReload(index)
        let filter = excluded.isEmpty ? nil : loaded.filter(excluding: excluded.map { UInt64($0) })

        var runs: [Run] = []
        var labels: [Int64] = []
        for ef in efValues {
            let (run, hits) = try measure(loaded, queries: queryMatrix, ef: ef, filter: filter, truth: truth, excluded: excluded)
            Console.progress("ef \(ef): recall \(run.recall), \(Int(run.qps)) QPS")
            runs.append(run)
            if labelsOut != nil {
                for result in hits { labels += result.map { Int64($0.label) } + Array(repeating: -1, count: k - result.count) }
            }
        }
        if let labelsOut {
            try labels.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: labelsOut)) }
        }
        try Console.printJSON(Report(
            buildSeconds: buildSeconds, buildThreads: threads, indexBytes: indexBytes,
            saveSeconds: saveSeconds, loadSeconds: loadSeconds,
            blas: BLASSummary(library: BLAS.library.implementation.rawValue, sgemmGflops: sgemm),
            exact: exact, runs: runs))
    }

    private func syntheticShape(_ text: String) -> (rows: Int, dimension: Int)? {
        let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { return nil }
        return (parts[0], parts[1])
    }

    private func inputs(metric: Metric) throws -> (Matrix, Matrix) {
        if let synthetic, let shape = syntheticShape(synthetic) {
            let normalized = metric == .cosine
            return (SyntheticData.gaussianClusters(rows: shape.rows, dimension: shape.dimension, clusters: 100,
                                                   seed: 1, normalized: normalized),
                    SyntheticData.gaussianClusters(rows: 1_000, dimension: shape.dimension, clusters: 100,
                                                   seed: 1, stream: 1, normalized: normalized))
        }
        return (try MatrixFile.readFloats(base!), try MatrixFile.readFloats(queries!))
    }

    private func excludedRows(count: Int) throws -> Set<Int> {
        if let excludeIds { return Set(try MatrixFile.readIntegers(excludeIds).values) }
        guard let excludePercent, excludePercent > 0 else { return [] }
        var rng = SplitMix64(seed: 1_000 + UInt64(excludePercent))
        return Set((0..<count).filter { _ in Int(rng.next() % 100) < excludePercent })
    }

    /// Truth ids per query: from the file, or exact search over the allowed rows.
    private func groundTruthRows(base: Matrix, queries: Matrix, metric: Metric,
                                 excluded: Set<Int>) throws -> ([[Int]], ExactSummary) {
        if let groundTruth {
            let file = try MatrixFile.readIntegers(groundTruth)
            guard file.rows == queries.rows, file.columns >= k else {
                throw ValidationError("ground truth has \(file.rows) × \(file.columns), need \(queries.rows) × ≥\(k)")
            }
            let rows = (0..<file.rows).map { Array(file.values[($0 * file.columns)..<($0 * file.columns + k)]) }
            return (rows, ExactSummary(seconds: 0, gflops: 0))
        }
        var preparedBase = base, preparedQueries = queries
        if metric == .cosine {
            try preparedBase.normalizeRows()
            try preparedQueries.normalizeRows()
        }
        var allowed: IDBitset?
        if !excluded.isEmpty {
            var bits = IDBitset(capacity: base.rows, filled: true)
            for id in excluded where id >= 0 && id < base.rows { bits.remove(id) }
            allowed = bits
        }
        Console.progress("exact ground truth (BLAS, \(ProcessInfo.processInfo.activeProcessorCount) threads)…")
        let result = try ExactSearch.search(queries: preparedQueries, base: preparedBase, k: k, metric: metric,
                                            allowed: allowed)
        Console.progress("exact: \(String(format: "%.2f", result.seconds)) s, \(String(format: "%.1f", result.gflops)) GFLOP/s")
        let rows = (0..<queries.rows).map { q in result.neighbors(ofQuery: q).map { Int($0.id) } }
        return (rows, ExactSummary(seconds: result.seconds, gflops: result.gflops))
    }

    private func build(_ base: Matrix, metric: Metric) throws -> (HNSWIndex, Double) {
        let parameters = HNSWParameters(dimension: base.dimension, metric: metric, m: m,
                                        efConstruction: efConstruction, efSearch: efValues[0])
        let index = try HNSWIndex(parameters: parameters, capacity: base.rows)
        let start = DispatchTime.now().uptimeNanoseconds
        try index.add(base, labels: (0..<base.rows).map { UInt64($0) }, threads: threads) { done, total in
            Console.progress("building: \(done)/\(total)")
        }
        let seconds = secondsSince(start)
        Console.progress("built in \(String(format: "%.2f", seconds)) s on \(threads) threads")
        return (index, seconds)
    }

    /// Saves (atomically) and reloads through the verified path, so the measured index is the
    /// one a service would serve.
    private func saveAndReload(_ index: HNSWIndex) throws -> (Int, Double, Double, HNSWIndex) {
        let path = save ?? NSTemporaryDirectory() + "firebreak-bench-\(getpid()).fbhnsw"
        var start = DispatchTime.now().uptimeNanoseconds
        let bytes = try index.save(to: path)
        let saveSeconds = secondsSince(start)
        start = DispatchTime.now().uptimeNanoseconds
        let loaded = try HNSWIndex.load(from: path)
        let loadSeconds = secondsSince(start)
        if save == nil { try? FileManager.default.removeItem(atPath: path) }
        return (bytes, saveSeconds, loadSeconds, loaded)
    }

    private func measure(_ index: HNSWIndex, queries: Matrix, ef: Int, filter: IDBitset?,
                         truth: [[Int]], excluded: Set<Int>) throws -> (Run, [[HNSWHit]]) {
        let d = queries.dimension
        var best = Double.infinity
        var hits: [[HNSWHit]] = []
        for _ in 0..<repetitions {
            var pass: [[HNSWHit]] = []
            pass.reserveCapacity(queries.rows)
            let start = DispatchTime.now().uptimeNanoseconds
            try queries.withUnsafeRows { rows in
                for q in 0..<queries.rows {
                    pass.append(try index.search(UnsafeBufferPointer(start: rows + q * d, count: d),
                                                 k: k, ef: ef, filter: filter))
                }
            }
            best = min(best, secondsSince(start))
            hits = pass
        }
        var found = 0, short = 0, excludedReturned = 0
        for (q, result) in hits.enumerated() {
            let expected = Set(truth[q].prefix(k))
            found += result.filter { expected.contains(Int($0.label)) }.count
            if result.count < k { short += 1 }
            excludedReturned += result.filter { excluded.contains(Int($0.label)) }.count
        }
        let recall = Double(found) / Double(max(1, queries.rows * k))
        return (Run(ef: ef, recall: (recall * 10_000).rounded() / 10_000, qps: (Double(queries.rows) / best).rounded(),
                    shortQueries: short, excludedReturned: excludedReturned), hits)
    }
}
