import Dispatch
import Foundation
import HNSW
import Lexical
import Snapshots

/// How a live collection is laid out inside a snapshot folder: per tenant partition one HNSW
/// file and one BM25 file (`p0000.hnsw`, `p0000.bm25`, …), and `partitions.json` naming them.
/// The quarantine is not in a snapshot: it lives in PostgreSQL and is applied to whatever is
/// restored, so a snapshot can never bring a quarantined document back.
struct SnapshotLayout: Codable, Sendable, Equatable {
    static let fileName = "partitions.json"

    struct Entry: Codable, Sendable, Equatable {
        var tenant: String
        var graph: String
        var lexical: String
        var documents: Int
    }

    var partitions: [Entry]

    /// A partition's indexes as captured: the live objects (not mutated while the writer holds
    /// them) or, for a snapshot written after the writers resume, their `frozenCopy`.
    struct Captured {
        let tenant: String
        let graph: HNSWIndex
        let lexical: LexicalIndex

        /// Deep copies of both indexes, which later changes to the live ones do not touch.
        var frozenCopy: Captured {
            Captured(tenant: tenant, graph: HNSWIndex(copying: graph), lexical: LexicalIndex(copying: lexical))
        }

        /// Row ids live in either index. (A rebuilt graph leaves quarantined documents out
        /// while the BM25 index keeps them, withheld: both count as held by the partition.)
        var liveRowIDs: Set<Int64> {
            Set(graph.liveLabels.map { Int64($0) }).union(lexical.liveLabels.map { Int64($0) })
        }
    }

    /// Writes every captured partition into `folder` and returns the layout it wrote.
    static func write(_ captured: [Captured], into folder: String) throws -> SnapshotLayout {
        var layout = SnapshotLayout(partitions: [])
        for (index, partition) in captured.enumerated() {
            let entry = Entry(tenant: partition.tenant, graph: String(format: "p%04d.hnsw", index),
                              lexical: String(format: "p%04d.bm25", index), documents: partition.lexical.liveCount)
            try partition.graph.save(to: folder + "/" + entry.graph)
            _ = try partition.lexical.save(to: folder + "/" + entry.lexical)
            layout.partitions.append(entry)
        }
        let data = try JSONEncoder.sorted.encode(layout)
        guard FileManager.default.createFile(atPath: folder + "/" + fileName, contents: data) else {
            throw EngineError(.indexFailed, "cannot write \(fileName) in \(folder)")
        }
        return layout
    }

    /// Reads a verified snapshot folder's layout and loads the partitions of `tenants` (all
    /// when nil). Each index file verifies its own checksum and structure as it loads.
    static func load(folder: String, tenants: Set<String>?) throws(EngineError) -> [Captured] {
        let layout: SnapshotLayout
        do {
            layout = try JSONDecoder().decode(SnapshotLayout.self,
                                              from: Data(contentsOf: URL(fileURLWithPath: folder + "/" + fileName)))
        } catch {
            throw EngineError(.snapshotInvalid, "\(fileName) in \(folder) cannot be read: \(error)")
        }
        // Each partition loads (and verifies itself) on its own core.
        let wanted = layout.partitions.filter { tenants?.contains($0.tenant) ?? true }
        let loaded = LoadResults()
        DispatchQueue.concurrentPerform(iterations: wanted.count) { index in
            let entry = wanted[index]
            let result: Result<Captured, EngineError>
            do {
                result = .success(Captured(tenant: entry.tenant, graph: try HNSWIndex.load(from: folder + "/" + entry.graph),
                                           lexical: try LexicalIndex.load(from: folder + "/" + entry.lexical)))
            } catch {
                result = .failure(EngineError(.snapshotInvalid, "partition \(entry.tenant) of \(folder) cannot be loaded: \(error)"))
            }
            loaded.put(index, result)
        }
        return try (0..<wanted.count).map { index throws(EngineError) in try loaded.get(index) }
    }
}

/// Partitions loaded by concurrent workers, by index.
private final class LoadResults: @unchecked Sendable {
    private let lock = Mutex()
    private var results: [Int: Result<SnapshotLayout.Captured, EngineError>] = [:]
    func put(_ index: Int, _ result: Result<SnapshotLayout.Captured, EngineError>) { lock.locked { results[index] = result } }
    func get(_ index: Int) throws(EngineError) -> SnapshotLayout.Captured {
        guard let result = lock.locked({ results[index] }) else { preconditionFailure("every partition was loaded") }
        return try result.get()
    }
}

extension HNSWIndex {
    /// Labels of the nodes not deleted, in id order.
    var liveLabels: [UInt64] {
        (0..<UInt32(count)).filter { !isDeleted(id: $0) }.map { label(ofID: $0) }
    }
}
