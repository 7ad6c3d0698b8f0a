import Dispatch
import HNSW
import VectorMath

/// One tenant's share of an ingest batch, linking into its partition's graph while the write
/// that stores the batch runs (issue 19): the graph work overlaps PostgreSQL's, and searches
/// keep being answered meanwhile. The nodes are placed tombstoned (`HNSWIndex.stage`), so
/// nothing serves them until the batch's change is applied, which publishes them with the
/// BM25 postings in one write section; a write that fails abandons them (they stay deleted).
///
/// Lifecycle, all under the collection's `writers`: `stage` (write lock) → `startLinking` →
/// `waitUntilLinked` (no lock) → `Partition.publish` or `abandon` (write lock). Exactly one of
/// those two ends it; the graph holds one staged batch at a time, so the next write can stage
/// only after this one ended.
final class StagedVectors: @unchecked Sendable {
    let tenant: String
    /// The graph the nodes were placed in (a publish checks it is still the partition's).
    let graph: HNSWIndex
    let rowIDs: [Int64]
    /// Written by the linking thread, read after `waitUntilLinked`.
    private var batch: HNSWIndex.StagedBatch
    private let linking = DispatchGroup()
    private var started = false

    init(tenant: String, graph: HNSWIndex, rowIDs: [Int64], batch: HNSWIndex.StagedBatch) {
        self.tenant = tenant
        self.graph = graph
        self.rowIDs = rowIDs
        self.batch = batch
    }

    /// Links on a thread of its own (and `threads` build workers), returning at once.
    func startLinking(threads: Int) {
        precondition(!started, "a staged batch is linked once")
        started = true
        linking.enter()
        DispatchQueue.global().async { [self] in
            graph.link(&batch, threads: threads)
            linking.leave()
        }
    }

    /// Blocks until the links are in (at once when linking never started).
    func waitUntilLinked() {
        if started { linking.wait() }
    }

    /// The batch, for `publish` or `abandon`; only after `waitUntilLinked`.
    var linkedBatch: HNSWIndex.StagedBatch { batch }

    /// Ends the batch without serving it. Caller holds the write lock, after `waitUntilLinked`.
    func abandon() {
        graph.abandon(batch)
    }
}

extension LiveCollection {
    /// Stages each tenant's vectors of a validated batch into its partition's graph under the
    /// row ids PostgreSQL will store them with, and starts linking them. A tenant without a
    /// partition yet is left to the apply (its partition is made there). Caller holds `writers`.
    func stageVectors(_ batch: [NewDocument], rowIDs: [Int64]) throws(EngineError) -> [StagedVectors] {
        let byTenant = Dictionary(grouping: zip(rowIDs, batch), by: { $0.1.tenant })
        let staged = try mutate { () throws(EngineError) -> [StagedVectors] in
            var staged: [StagedVectors] = []
            do throws(EngineError) {
                for tenant in byTenant.keys.sorted() {
                    guard let partition = partitions[tenant] else { continue }
                    staged.append(try partition.stage(byTenant[tenant]!.map { ($0.0, $0.1.embedding) }))
                }
            } catch {
                for unlinked in staged { unlinked.abandon() }
                throw error
            }
            return staged
        }
        for one in staged { one.startLinking(threads: one.rowIDs.count >= Partition.parallelBatchMin ? 2 : 1) }
        return staged
    }

    /// Ends staged batches whose write failed: they are never served. Caller holds `writers`.
    func abandon(_ staged: [StagedVectors]) {
        guard !staged.isEmpty else { return }
        for one in staged { one.waitUntilLinked() }
        mutate { for one in staged { one.abandon() } }
    }
}
