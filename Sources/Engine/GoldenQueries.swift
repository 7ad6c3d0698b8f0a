import Foundation
import HNSW
import Incidents
import Store

/// A known-answer vector query: searched in `tenant`'s partition, any of `relevant` (external
/// ids) is a right answer. `baselineRR` is its reciprocal rank at 10 when the set was stored.
public struct GoldenQuery: Codable, Sendable, Equatable {
    public var tenant: String
    public var vector: [Float]
    public var relevant: [String]
    public var baselineRR: Double?
    enum CodingKeys: String, CodingKey { case tenant, vector, relevant, baselineRR = "baseline_rr" }

    public init(tenant: String, vector: [Float], relevant: [String]) {
        self.tenant = tenant
        self.vector = vector
        self.relevant = relevant
    }
}

/// A stored golden-query set and its baseline.
public struct GoldenSet: Sendable {
    public let queries: [GoldenQuery]
    public let baselineMRR: Double
    public let setAt: String
}

/// The pure part of the rebuild's golden-query gate: the rebuilt graph's MRR@10 over the
/// queries still answerable must not fall more than `dropMax` below their baseline.
public enum GoldenCheck {
    public static let queriesMax = 1_000
    public static let relevantMax = 100
    public static let depth = 10

    public struct Verdict: Sendable, Equatable {
        public let queries: Int
        public let baselineMRR: Double
        public let mrr: Double
        public let passed: Bool
    }

    public static func verdict(baseline: [Double], after: [Double], dropMax: Double) -> Verdict {
        precondition(baseline.count == after.count, "one baseline per evaluated query")
        guard !baseline.isEmpty else { return Verdict(queries: 0, baselineMRR: 0, mrr: 0, passed: true) }
        let before = baseline.reduce(0, +) / Double(baseline.count), now = after.reduce(0, +) / Double(after.count)
        return Verdict(queries: baseline.count, baselineMRR: before, mrr: now, passed: now >= before - dropMax)
    }

    /// 1 / rank of the first relevant id among the first `depth`, 0 when none is there.
    public static func reciprocalRank(_ ranked: [String], relevant: Set<String>) -> Double {
        guard let index = ranked.prefix(depth).firstIndex(where: relevant.contains) else { return 0 }
        return 1 / Double(index + 1)
    }
}

extension LiveCollection {
    /// Whether every relevant document of `query` is gone (deleted or quarantined): such a
    /// query has no right answer left and is left out of the comparison.
    func isAnswerable(_ query: GoldenQuery) -> Bool {
        state.reading {
            query.relevant.contains { id in
                rowIDs[DocumentKey(tenant: query.tenant, externalID: id)].map { quarantined[$0] == nil } ?? false
            }
        }
    }

    /// Ranked external ids of a golden query on `graph` (a rebuilt graph not yet serving).
    func ranked(_ query: GoldenQuery, on graph: HNSWIndex) throws -> [String] {
        let hits = try graph.search(query.vector, k: GoldenCheck.depth)
        return state.reading { hits.compactMap { documents[Int64($0.label)]?.externalID } }
    }

    func validate(_ queries: [GoldenQuery]) throws(EngineError) {
        guard (1...GoldenCheck.queriesMax).contains(queries.count) else {
            throw EngineError(.invalidInput, "give 1...\(GoldenCheck.queriesMax) golden queries, got \(queries.count)")
        }
        for (index, query) in queries.enumerated() {
            try validate(vector: query.vector, name: "queries[\(index)].vector")
            guard (1...GoldenCheck.relevantMax).contains(query.relevant.count) else {
                throw EngineError(.invalidInput, "queries[\(index)].relevant must name 1...\(GoldenCheck.relevantMax) documents")
            }
            guard state.reading({ partitions[query.tenant] != nil }) else {
                throw EngineError(.invalidInput, "queries[\(index)].tenant: collection \(configuration.name) has no tenant \(query.tenant.prefix(64))")
            }
        }
    }
}

extension LiveCollections {
    /// Stores a collection's golden queries with each one's reciprocal rank on the index as it
    /// serves now: the baseline a rebuild is held to. Refused while a partition rebuilds.
    public func setGoldenQueries(_ queries: [GoldenQuery], in collection: LiveCollection, actor: String)
        async throws(EngineError) -> GoldenSet {
        try collection.validate(queries)
        var measured = queries
        for index in measured.indices {
            let query = measured[index]
            let response = try collection.search(SearchRequest(mode: .vector, vector: query.vector, k: GoldenCheck.depth,
                                                               tenant: query.tenant))
            guard !response.degraded else {
                throw EngineError(.rebuildRunning, "tenant \(query.tenant) is rebuilding; measure the baseline after it")
            }
            measured[index].baselineRR = GoldenCheck.reciprocalRank(response.hits.map(\.externalID), relevant: Set(query.relevant))
        }
        let baseline = measured.reduce(0) { $0 + ($1.baselineRR ?? 0) } / Double(measured.count)
        let json = String(decoding: (try? JSONEncoder().encode(measured)) ?? Data("[]".utf8), as: UTF8.self)
        let count = measured.count
        try await write(collection) { connection throws(EngineError) in
            do {
                try GoldenQueryRecords.put(GoldenQueryRecord(collectionID: collection.configuration.id, queriesJSON: json,
                                                             baselineMRR: baseline), actor: actor, on: connection)
            } catch {
                throw LiveCollection.mapped(error)
            }
            try collection.append(.goldenQueriesReplaced(queries: count), on: connection)
        }
        return GoldenSet(queries: measured, baselineMRR: baseline, setAt: "")
    }

    public func goldenQueries(of collection: LiveCollection) async throws(EngineError) -> GoldenSet? {
        let record: GoldenQueryRecord?
        do {
            record = try await pool.withConnection { try GoldenQueryRecords.load(collectionID: collection.configuration.id, on: $0) }
        } catch {
            throw LiveCollection.mapped(error)
        }
        guard let record else { return nil }
        guard let queries = try? JSONDecoder().decode([GoldenQuery].self, from: Data(record.queriesJSON.utf8)) else {
            throw EngineError(.storeFailed, "the stored golden queries of \(collection.configuration.name) do not decode")
        }
        return GoldenSet(queries: queries, baselineMRR: record.baselineMRR, setAt: record.setAt)
    }

    /// The golden-query gate for a rebuilt graph of `tenant`: its answerable queries' MRR@10 on
    /// the new graph against their baseline. Returns the findings; throws when it fails.
    func checkGolden(_ set: GoldenSet?, graph: HNSWIndex, tenant: String, collection: LiveCollection,
                     dropMax: Double) throws -> [String: PayloadValue] {
        let queries = (set?.queries ?? []).filter { $0.tenant == tenant && collection.isAnswerable($0) }
        var after = try queries.map { GoldenCheck.reciprocalRank(try collection.ranked($0, on: graph), relevant: Set($0.relevant)) }
        if EngineFaults.isArmed(.goldenRegression) { after = after.map { _ in 0 } }
        let verdict = GoldenCheck.verdict(baseline: queries.map { $0.baselineRR ?? 0 }, after: after, dropMax: dropMax)
        let findings: [String: PayloadValue] = ["golden_queries": .integer(Int64(verdict.queries)),
                                                "golden_mrr_baseline": .rounded(verdict.baselineMRR, places: 3),
                                                "golden_mrr": .rounded(verdict.mrr, places: 3)]
        guard verdict.passed else { throw GoldenRegression(tenant: tenant, verdict: verdict, dropMax: dropMax) }
        return findings
    }
}

/// A rebuilt graph that answers the golden queries worse than their baseline allows: the
/// rebuild fails (the previous graph keeps serving) and, being a retrieval failure of its own,
/// it is declared as a `retrieval` incident (`LiveCollections.declareRetrievalRegression`).
struct GoldenRegression: Error, CustomStringConvertible {
    let tenant: String
    let verdict: GoldenCheck.Verdict
    let dropMax: Double

    var description: String {
        "validation: golden-query MRR@10 \(String(format: "%.3f", verdict.mrr)) is more than \(dropMax) below its baseline \(String(format: "%.3f", verdict.baselineMRR)) (\(verdict.queries) queries)"
    }
}
