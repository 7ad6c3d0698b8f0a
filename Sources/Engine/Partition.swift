import HNSW
import Lexical
import VectorMath

/// A ranked hit inside one partition: the document's row id and a score, higher is better.
struct PartitionHit: Sendable {
    let rowID: Int64
    let score: Double
}

/// One tenant's documents: its own HNSW graph and BM25 index, and the allow-filters that
/// withhold its quarantined documents. Containment (freeze, rebuild, fallback) acts on one
/// partition while the others keep serving.
///
/// Not thread-safe by itself: the owning `LiveCollection` guards it with its lock.
final class Partition: @unchecked Sendable {
    let tenant: String
    let metric: Metric
    /// Replaced as a whole when a rebuild succeeds (under the collection's write lock).
    private(set) var graph: HNSWIndex
    let lexical: LexicalIndex
    private(set) var vectorFilter = AllowFilter()
    private(set) var lexicalFilter = AllowFilter()
    /// The graph is being rebuilt: vector requests are answered from BM25 (issue 8 drives it).
    var rebuilding = false

    init(tenant: String, parameters: HNSWParameters) throws(EngineError) {
        self.tenant = tenant
        metric = parameters.metric
        do { graph = try HNSWIndex(parameters: parameters) } catch {
            throw EngineError(.indexFailed, "tenant \(tenant): \(error.message)")
        }
        do { lexical = try LexicalIndex() } catch {
            throw EngineError(.indexFailed, "tenant \(tenant): \(error)")
        }
    }

    /// A partition restored from a snapshot's files. The caller has already tombstoned the
    /// documents that are no longer live; `withheld` (the active quarantine) is applied here,
    /// so the restored partition never serves a quarantined document.
    init(tenant: String, graph: HNSWIndex, lexical: LexicalIndex, withheld: Set<Int64>) {
        self.tenant = tenant
        metric = graph.parameters.metric
        self.graph = graph
        self.lexical = lexical
        vectorFilter = AllowFilter(capacity: graph.count)
        lexicalFilter = AllowFilter(capacity: lexical.documentCount)
        for rowID in withheld { setWithheld(true, rowID: rowID) }
    }

    var liveCount: Int { lexical.liveCount }

    /// Batches at least this large are linked on two cores.
    static let parallelBatchMin = 256

    /// Places validated vectors in the graph, not served until `publish` (see
    /// `StagedVectors`). Caller holds the write lock.
    func stage(_ rows: [(rowID: Int64, embedding: [Float])]) throws(EngineError) -> StagedVectors {
        do {
            let matrix = try Matrix(rows: rows.count, dimension: graph.parameters.dimension, storage: rows.flatMap(\.embedding))
            let batch = try graph.stage(matrix, labels: rows.map { UInt64($0.rowID) })
            return StagedVectors(tenant: tenant, graph: graph, rowIDs: rows.map(\.rowID), batch: batch)
        } catch {
            throw EngineError(.indexFailed, "tenant \(tenant): vector index refused the batch: \(error)")
        }
    }

    /// Serves a linked staged batch and adds its texts to BM25, all or nothing: if BM25 refuses
    /// them the batch is abandoned. Caller holds the write lock.
    func publish(_ staged: StagedVectors, texts: [(rowID: Int64, text: String)]) throws(EngineError) {
        precondition(staged.graph === graph && staged.rowIDs == texts.map(\.rowID), "a staged batch is published whole, into its own graph")
        do {
            try lexical.add(texts.map { (label: UInt64($0.rowID), text: $0.text) })
        } catch {
            staged.abandon()
            throw EngineError(.indexFailed, "tenant \(tenant): lexical index refused the batch: \(error.message)")
        }
        graph.publish(staged.linkedBatch)
        vectorFilter.reserve(graph.count)
        lexicalFilter.reserve(lexical.documentCount)
    }

    /// Adds validated documents to both indexes, all or nothing.
    func add(_ rows: [(rowID: Int64, text: String, embedding: [Float])]) throws(EngineError) {
        guard !rows.isEmpty else { return }
        let dimension = graph.parameters.dimension
        let labels = rows.map { UInt64($0.rowID) }
        do {
            let matrix = try Matrix(rows: rows.count, dimension: dimension, storage: rows.flatMap(\.embedding))
            try graph.add(matrix, labels: labels, threads: rows.count >= Self.parallelBatchMin ? 2 : 1)
        } catch {
            throw EngineError(.indexFailed, "tenant \(tenant): vector index refused the batch: \(error)")
        }
        do {
            try lexical.add(rows.map { (label: UInt64($0.rowID), text: $0.text) })
        } catch {
            for label in labels { try? graph.delete(label: label) }
            throw EngineError(.indexFailed, "tenant \(tenant): lexical index refused the batch: \(error.message)")
        }
        vectorFilter.reserve(graph.count)
        lexicalFilter.reserve(lexical.documentCount)
    }

    /// Adds what each index lacks, under the row id: vectors to the graph, texts to the BM25
    /// index (a partition restored from a snapshot older than the record, or one whose
    /// rebuilt graph left quarantined documents out).
    func addMissing(graph graphRows: [(rowID: Int64, embedding: [Float])],
                    lexical lexicalRows: [(rowID: Int64, text: String)]) throws(EngineError) {
        if !graphRows.isEmpty {
            do {
                let matrix = try Matrix(rows: graphRows.count, dimension: graph.parameters.dimension,
                                        storage: graphRows.flatMap(\.embedding))
                try graph.add(matrix, labels: graphRows.map { UInt64($0.rowID) }, threads: graphRows.count >= Self.parallelBatchMin ? 2 : 1)
            } catch {
                throw EngineError(.indexFailed, "tenant \(tenant): vector index refused the missing documents: \(error)")
            }
        }
        do {
            try lexical.add(lexicalRows.map { (label: UInt64($0.rowID), text: $0.text) })
        } catch {
            throw EngineError(.indexFailed, "tenant \(tenant): lexical index refused the missing documents: \(error.message)")
        }
        vectorFilter.reserve(graph.count)
        lexicalFilter.reserve(lexical.documentCount)
    }

    /// Serves `newGraph` from now on (the caller holds the write lock): documents no longer
    /// live are tombstoned in it and quarantined ones withheld, so a rebuild can neither
    /// resurrect a deleted document nor a quarantined one; live, admitted documents it lacks
    /// (ingested while it was built, say on another replica) are added with the vectors the
    /// old graph holds, so a rebuild never drops one either.
    func replaceGraph(_ newGraph: HNSWIndex, live: Set<Int64>, withheld: Set<Int64>) {
        for rowID in live.subtracting(withheld).sorted() where newGraph.id(forLabel: UInt64(rowID)) == nil {
            guard let vector = graph.vector(forLabel: UInt64(rowID)) else { continue }
            try? newGraph.add(vector, label: UInt64(rowID))
        }
        var filter = AllowFilter(capacity: newGraph.count)
        for id in 0..<UInt32(newGraph.count) where !newGraph.isDeleted(id: id) {
            let rowID = Int64(newGraph.label(ofID: id))
            if !live.contains(rowID) { try? newGraph.delete(label: UInt64(rowID)) }
            if withheld.contains(rowID) { filter.withhold(id) }
        }
        graph = newGraph
        vectorFilter = filter
    }

    func delete(rowID: Int64) {
        try? graph.delete(label: UInt64(rowID))
        try? lexical.delete(label: UInt64(rowID))
    }

    /// Withholds (or readmits) a document on both search paths at once.
    func setWithheld(_ withheld: Bool, rowID: Int64) {
        let label = UInt64(rowID)
        if let id = graph.id(forLabel: label) {
            if withheld { vectorFilter.withhold(id) } else { vectorFilter.readmit(id) }
        }
        if let document = lexical.document(forLabel: label) {
            if withheld { lexicalFilter.withhold(document) } else { lexicalFilter.readmit(document) }
        }
    }

    func admits(rowID: Int64) -> Bool {
        let label = UInt64(rowID)
        guard let id = graph.id(forLabel: label), let document = lexical.document(forLabel: label) else { return false }
        return vectorFilter.admits(id) && lexicalFilter.admits(document)
    }

    /// The k nearest admitted documents; score = similarity (1 − distance for cosine and
    /// inner product, −squared distance for L2).
    /// The k best admitted documents by vector similarity: through the graph, or (`exact`,
    /// while the graph is rebuilt) by scanning every admitted vector, which no graph damage
    /// can change.
    func searchVector(_ vector: [Float], k: Int, ef: Int?, exact: Bool = false) throws(EngineError) -> [PartitionHit] {
        guard graph.liveCount > 0 else { return [] }
        do {
            let hits = exact ? try graph.exactSearch(vector, k: k, filter: vectorFilter.bits)
                             : try graph.search(vector, k: k, ef: ef, filter: vectorFilter.bits)
            return hits.map { hit in
                PartitionHit(rowID: Int64(hit.label), score: metric == .l2 ? -Double(hit.distance) : 1 - Double(hit.distance))
            }
        } catch {
            throw EngineError(.invalidVector, error.message)
        }
    }

    /// The k best admitted documents by BM25; an empty result says why.
    func searchLexical(_ query: String, k: Int) throws(EngineError) -> (hits: [PartitionHit], emptyReason: String?) {
        do {
            let result = try lexical.search(query, k: k, filter: lexicalFilter.bits)
            return (result.hits.map { PartitionHit(rowID: Int64($0.label), score: Double($0.score)) },
                    result.hits.isEmpty ? result.emptyReason?.rawValue : nil)
        } catch {
            throw EngineError(error.code == .queryTooLong ? .queryTooLong : .invalidInput, error.message)
        }
    }
}
