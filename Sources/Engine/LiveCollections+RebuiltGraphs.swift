import Foundation
import HNSW
import Snapshots
import Store

/// Rebuilt graphs travel between replicas through the snapshot store: the rebuilding replica
/// writes the graph it is about to swap in (atomically, checksummed) and names it, with its
/// SHA-256, in the `partition_rebuilt` row; every other replica verifies and loads the file
/// when it applies the row. The file is deleted when retention truncates that row.
extension LiveCollections {
    struct RebuiltGraphFile: Sendable {
        /// Relative to the snapshot root.
        let path: String
        let sha256: String
    }

    static func rebuiltGraphPath(collectionID: Int64, job: Int64, tenant: String) -> String {
        "c\(collectionID)/rebuilt/j\(job)-\(tenant).hnsw"
    }

    /// Writes `graph` for the other replicas. Nil (and reported) when it cannot be written:
    /// the swap still happens here, and the others keep their own graph.
    func publishRebuilt(_ graph: HNSWIndex, job: Int64, tenant: String, of collection: LiveCollection) async -> RebuiltGraphFile? {
        let relative = Self.rebuiltGraphPath(collectionID: collection.configuration.id, job: job, tenant: tenant)
        let store = snapshots
        do {
            return try await BlockingWork.run {
                let sha256 = try store.publishFile(relative) { path in _ = try graph.save(to: path) }
                return RebuiltGraphFile(path: relative, sha256: sha256)
            }
        } catch {
            report("rebuilt graph of \(collection.configuration.name)/\(tenant) (job \(job)) not written for the other replicas: \(error)")
            return nil
        }
    }

    /// Another replica's rebuilt graph, verified against the row that names it. Nil (and
    /// reported) when it cannot be used: this replica then keeps its own graph.
    func loadRebuilt(file: String, sha256: String, of collection: LiveCollection) -> HNSWIndex? {
        do {
            let checkout = try snapshots.checkoutFile(file, sha256: sha256)
            defer { checkout.release() }
            let graph = try HNSWIndex.load(from: checkout.path)
            guard graph.parameters.dimension == collection.configuration.dimension else {
                throw EngineError(.snapshotInvalid, "it has dimension \(graph.parameters.dimension), the collection \(collection.configuration.dimension)")
            }
            report("collection \(collection.configuration.name): rebuilt graph \(file) loaded (\(graph.liveCount) documents)")
            return graph
        } catch {
            report("rebuilt graph \(file) not loaded (\(error)); \(collection.configuration.name) keeps this replica's own graph")
            return nil
        }
    }
}
