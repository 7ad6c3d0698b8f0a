import ArgumentParser
import Foundation
import HNSW
import Lexical
import Snapshots
import VectorMath

/// `firebreak bench snapshot-store`: one snapshot published to and loaded from an S3-compatible
/// store and a folder, side by side in one run.
struct BenchSnapshotStoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot-store",
        abstract: "Publish and load a snapshot to and from an S3 store and a folder, in one run; prints the ratios.",
        discussion: """
        Builds one partition the way the service snapshots it (an HNSW graph of --documents seeded \
        unit vectors and a BM25 index of synthetic text), then, --rounds times and alternating \
        which store goes first: publishes it (files written, hashed, stored; S3: segments with \
        If-None-Match, multipart above 64 MiB, the manifest last) and loads it (S3: downloaded and \
        hashed while streaming; folder: every file re-hashed; both then load both indexes), then \
        removes it. The S3 store comes from --snapshot-store s3://… (and --s3-endpoint); the folder \
        is --folder. Benchmarks/snapshot_store.sh runs it against moto on loopback. Reports the \
        median of each measure and S3 / folder.
        """)

    @Option(help: "Vectors in the snapshot.") var documents = 100_000
    @Option(help: "Vector dimension.") var dimension = 384
    @Option(help: "Publish/load rounds per store.") var rounds = 3
    @Option(help: "HNSW efConstruction of the graph built for the run (the file's size does not depend on it).")
    var efConstruction = 40
    @Option(help: "Seed of the synthetic vectors.") var seed: UInt64 = 7
    @Option(help: "Folder for the folder store (default: a temporary one, removed after).") var folder: String?
    @Flag(help: "Drop the page cache before each load (needs root), so the folder store reads from disk.")
    var dropCaches = false
    @OptionGroup var snapshots: SnapshotStoreOptions

    struct Measure: Encodable {
        let publishSeconds: [Double]
        let loadSeconds: [Double]
        let publishMedian: Double
        let loadMedian: Double
    }

    struct Report: Encodable {
        let documents, dimension, bytes: Int
        let files: [SnapshotManifest.File]
        let s3Location: String
        let folder: Measure
        let s3: Measure
        /// S3 / folder, medians. The target for load: ≤ 1.5.
        let loadRatio: Double
        let publishRatio: Double
        let pageCacheDropped: Bool
    }

    func validate() throws {
        guard documents >= 1_000, (2...HNSWParameters.dimensionMax).contains(dimension), rounds >= 1 else {
            throw ValidationError("need documents ≥ 1000, dimension in 2...\(HNSWParameters.dimensionMax), rounds ≥ 1")
        }
    }

    func run() throws {
        let s3 = try snapshots.store(defaultFolder: "")
        guard s3 is S3SnapshotStore else { throw ValidationError("--snapshot-store must be s3://BUCKET/PREFIX") }
        let root = folder ?? FileManager.default.temporaryDirectory.appendingPathComponent("fb-bench-store-\(getpid())").path
        defer { if folder == nil { try? FileManager.default.removeItem(atPath: root) } }
        let local = FolderSnapshotStore(root: root)
        let (graph, lexical) = try buildPartition()
        var measures: [String: (publish: [Double], load: [Double])] = ["folder": ([], []), "s3": ([], [])]
        var manifest: SnapshotManifest?
        for round in 0..<rounds {
            let order: [(String, any SnapshotStore)] = round % 2 == 0 ? [("folder", local), ("s3", s3)] : [("s3", s3), ("folder", local)]
            for (name, store) in order {
                let id = "bench-\(name)-\(round)-\(UInt32.random(in: 0...UInt32.max))"
                let (published, publishSeconds) = try timed {
                    try store.publish(emptyManifest(id), in: "bench") { directory in
                        _ = try graph.save(to: directory + "/p0000.hnsw")
                        _ = try lexical.save(to: directory + "/p0000.bm25")
                    }
                }
                if dropCaches { Self.dropPageCache() }
                let (_, loadSeconds) = try timed {
                    let checkout = try store.checkout(id, in: "bench")
                    defer { checkout.release() }
                    let loadedGraph = try HNSWIndex.load(from: checkout.path + "/p0000.hnsw")
                    let loadedLexical = try LexicalIndex.load(from: checkout.path + "/p0000.bm25")
                    guard loadedGraph.liveCount == documents, loadedLexical.liveCount == documents else {
                        throw ValidationError("the loaded snapshot holds \(loadedGraph.liveCount) vectors, expected \(documents)")
                    }
                }
                try store.remove(id, in: "bench")
                measures[name]!.publish.append(publishSeconds)
                measures[name]!.load.append(loadSeconds)
                manifest = published
                Console.progress("round \(round + 1) \(name): publish \(format(publishSeconds)) s, load \(format(loadSeconds)) s")
            }
        }
        let folderMeasure = measure(measures["folder"]!), s3Measure = measure(measures["s3"]!)
        let files = manifest?.files ?? []
        try Console.printJSON(Report(documents: documents, dimension: dimension, bytes: files.reduce(0) { $0 + $1.bytes },
                                     files: files, s3Location: s3.location, folder: folderMeasure, s3: s3Measure,
                                     loadRatio: s3Measure.loadMedian / folderMeasure.loadMedian,
                                     publishRatio: s3Measure.publishMedian / folderMeasure.publishMedian,
                                     pageCacheDropped: dropCaches))
    }

    /// One partition: seeded unit vectors in an HNSW graph, and 12 words of synthetic text each in BM25.
    private func buildPartition() throws -> (HNSWIndex, LexicalIndex) {
        var random = SplitMix64(seed: seed)
        var values = [Float](repeating: 0, count: documents * dimension)
        for row in 0..<documents {
            var norm: Float = 0
            for column in 0..<dimension {
                let value = random.nextGaussian()
                values[row * dimension + column] = value
                norm += value * value
            }
            let scale = 1 / norm.squareRoot()
            for column in 0..<dimension { values[row * dimension + column] *= scale }
        }
        Console.progress("building an HNSW graph of \(documents) × \(dimension) (efConstruction \(efConstruction))")
        let graph = try HNSWIndex(parameters: HNSWParameters(dimension: dimension, metric: .cosine, m: 16,
                                                             efConstruction: efConstruction),
                                  capacity: documents)
        try graph.add(try Matrix(rows: documents, dimension: dimension, storage: values), labels: (0..<documents).map { UInt64($0) })
        let lexical = try LexicalIndex()
        try lexical.add((0..<documents).map { row in
            (UInt64(row), (0..<12).map { _ in "w\(random.next() % 20_000)" }.joined(separator: " "))
        })
        return (graph, lexical)
    }

    private func emptyManifest(_ id: String) -> SnapshotManifest {
        SnapshotManifest(id: id, collection: "bench", parent: nil, documents: documents, dimension: dimension, metric: "cosine",
                         index: .init(m: 16, efConstruction: efConstruction, efSearch: 64), analyzer: nil)
    }

    private func measure(_ samples: (publish: [Double], load: [Double])) -> Measure {
        Measure(publishSeconds: samples.publish.map(rounded), loadSeconds: samples.load.map(rounded),
                publishMedian: rounded(median(samples.publish)), loadMedian: rounded(median(samples.load)))
    }

    private func timed<T>(_ body: () throws -> T) throws -> (T, Double) {
        let started = DispatchTime.now()
        let value = try body()
        return (value, Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9)
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    private func rounded(_ value: Double) -> Double { (value * 1_000).rounded() / 1_000 }
    private func format(_ value: Double) -> String { String(format: "%.3f", value) }

    private static func dropPageCache() {
        sync()
        try? "3\n".write(toFile: "/proc/sys/vm/drop_caches", atomically: false, encoding: .utf8)
    }
}
