import ArgumentParser
import Dispatch
import Foundation
import HNSW
import Lexical
import Snapshots
import VectorMath

/// `firebreak snapshot …`: build and verify snapshot folders offline.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Build immutable index snapshots offline and verify them before they serve.",
        subcommands: [Build.self, Verify.self]
    )

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the HNSW (and BM25) segments from files and publish a snapshot folder atomically.",
            discussion: """
            Writes <out>/<id>/ holding vectors.npy, graph.fbhnsw, ids.json (row i's document id), \
            lexical.fblex when --corpus is given, and manifest.json with every file's size and \
            SHA-256 and a root hash. Corpus line i ({"id","title","text"}) describes embedding row i. \
            Prints the manifest as JSON.
            """
        )

        @Option(help: "Embeddings (.npy or .fvecs), one row per document.") var embeddings: String
        @Option(help: "Corpus JSONL giving each row's id and text (enables the BM25 segment).") var corpus: String?
        @Option(help: "cosine, ip or l2.") var metric: String = "cosine"
        @Option(help: "Folder holding snapshots; the snapshot goes to <out>/<id>.") var out: String
        @Option(help: "Snapshot id (default: snap-<UTC time>).") var id: String?
        @Option(help: "Collection name recorded in the manifest.") var collection: String = "default"
        @Option(help: "Parent snapshot id recorded in the manifest.") var parent: String?
        @Option(help: "HNSW M.") var m: Int = 16
        @Option(help: "HNSW efConstruction.") var efConstruction: Int = 200
        @Option(help: "HNSW efSearch stored as the default.") var efSearch: Int = 64

        func run() throws {
            guard let metricValue = Metric(name: metric) else { throw ValidationError("--metric must be cosine, ip or l2") }
            let vectors = try MatrixFile.readFloats(embeddings)
            let documents = try corpus.map { try JSONLines.read($0, as: CorpusLine.self) }
            if let documents, documents.count != vectors.rows {
                throw ValidationError("--corpus has \(documents.count) lines but --embeddings has \(vectors.rows) rows")
            }
            let ids = documents?.map(\.id) ?? (0..<vectors.rows).map(String.init)
            guard Set(ids).count == ids.count else { throw ValidationError("document ids in --corpus must be unique") }
            let snapshotID = id ?? "snap-" + Self.timestamp()
            let parameters = HNSWParameters(dimension: vectors.dimension, metric: metricValue, m: m,
                                            efConstruction: efConstruction, efSearch: efSearch)
            let start = DispatchTime.now().uptimeNanoseconds
            let graph = try HNSWIndex(parameters: parameters, capacity: max(vectors.rows, 1))
            try graph.add(vectors, labels: (0..<vectors.rows).map(UInt64.init))
            Console.progress("built the graph of \(vectors.rows) vectors in \(String(format: "%.1f", secondsSince(start))) s")
            var lexical: LexicalIndex?
            if let documents {
                let index = try LexicalIndex()
                try index.add(documents.enumerated().map { (UInt64($0.offset), $0.element.text) })
                lexical = index
            }
            let manifest = SnapshotManifest(
                id: snapshotID, collection: collection, parent: parent, documents: vectors.rows,
                dimension: vectors.dimension, metric: metric,
                index: .init(m: m, efConstruction: efConstruction, efSearch: efSearch),
                analyzer: lexical.map { "\($0.analyzer.name)@\(Analyzer.version)" })
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let published = try SnapshotFolder(root: out).publish(manifest) { folder in
                try MatrixFile.writeNPY(vectors, to: folder + "/vectors.npy")
                try graph.save(to: folder + "/graph.fbhnsw")
                try JSONEncoder().encode(ids).write(to: URL(fileURLWithPath: folder + "/ids.json"))
                try lexical?.save(to: folder + "/lexical.fblex")
            }
            try Console.printJSON(published)
        }

        static func timestamp() -> String {
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
            formatter.timeZone = TimeZone(identifier: "UTC")
            return formatter.string(from: Date())
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a snapshot folder: exit 0 only when every file's size and SHA-256 and the root hash match.")

        @Argument(help: "The snapshot folder (<out>/<id>).") var folder: String
        @Flag(help: "Print the manifest as JSON on success.") var json = false

        func run() throws {
            do {
                let manifest = try SnapshotFolder.verify(folder: folder)
                if json { try Console.printJSON(manifest) } else {
                    print("verified \(manifest.id): \(manifest.files.count) files, root \(manifest.rootHash)")
                }
            } catch {
                Console.progress("refused: \(error)")
                throw ExitCode(2)
            }
        }
    }
}
