import Store
import Foundation
import Lexical

extension LiveCollection {
    /// Answers a search from the partitions the request may see, under the read lock.
    ///
    /// A tenant's request touches only that tenant's partition. A partition whose graph is
    /// being rebuilt answers vector requests by an exact scan (and hybrid ones by that scan
    /// fused with BM25); the response says `degraded`. Every
    /// partition applies its allow-filters, so a quarantined document never appears and the
    /// result still holds `min(k, admitted documents)` hits.
    public func search(_ request: SearchRequest) throws(EngineError) -> SearchResponse {
        try validate(request)
        let (response, tenantExists) = try state.reading { () throws(EngineError) -> (SearchResponse, Bool) in
            if let tenant = request.tenant, flags.isBlocked(tenant: tenant) {
                throw EngineError(.tenantBlocked, "tenant \(tenant) is blocked (FF_TENANT_BLOCK) in collection \(configuration.name)")
            }
            let targets = request.tenant.map { partitions[$0].map { [$0] } ?? [] }
                ?? partitions.keys.sorted().compactMap { partitions[$0] }
            return (try answer(request, from: targets), request.tenant.map { partitions[$0] != nil } ?? true)
        }
        record(request, response, sampled: tenantExists)
        return response
    }

    /// Off the read lock: the query joins the reservoir (only for a tenant the collection has,
    /// so made-up tenant names cannot grow it), and what was served goes to the retrieval log
    /// (memory now, PostgreSQL in the next batch).
    private func record(_ request: SearchRequest, _ response: SearchResponse, sampled: Bool) {
        if sampled, let vector = request.vector, request.mode != .lexical {
            // Validated already (finite, non-zero for cosine), so preparing cannot fail.
            if let prepared = try? configuration.metric.prepared(vector) { reservoir.offer(prepared, tenant: request.tenant ?? "") }
        }
        guard let retrievalLog, !response.hits.isEmpty else { return }
        retrievalLog.append(RetrievalRecord(collectionID: configuration.id, tenant: request.tenant ?? "",
                                            traceID: request.traceID ?? RetrievalLog.newTraceID(), servedAt: Date(),
                                            documents: response.hits.map(\.rowID)))
    }

    private func answer(_ request: SearchRequest, from targets: [Partition]) throws(EngineError) -> SearchResponse {
        var vectorHits: [PartitionHit] = []
        var lexicalHits: [PartitionHit] = []
        var degraded = false
        var usedVector = false
        var usedLexical = false
        var emptyReason: String?
        for partition in targets {
            let mode = CollectionMode.of(frozen: false, rebuilding: partition.rebuilding).route(request.mode)
            degraded = degraded || mode.degraded
            if mode.used != .lexical, let vector = request.vector {
                vectorHits += try partition.searchVector(vector, k: request.k, ef: request.ef, exact: mode.exactVectors)
                usedVector = true
            }
            if mode.used != .vector, let query = request.query {
                let result = try partition.searchLexical(query, k: request.k)
                lexicalHits += result.hits
                emptyReason = emptyReason ?? result.emptyReason
                usedLexical = true
            }
        }
        let ranked = rank(vector: usedVector ? vectorHits : nil, lexical: usedLexical ? lexicalHits : nil, k: request.k)
        let hits = ranked.compactMap { hit -> SearchHit? in
            guard let entry = documents[hit.rowID], quarantined[hit.rowID] == nil else { return nil }
            guard request.tenant == nil || request.tenant == entry.tenant else {
                assertionFailure("partition of \(request.tenant ?? "") returned a document of \(entry.tenant)")
                return nil
            }
            return SearchHit(rowID: hit.rowID, externalID: entry.externalID, tenant: entry.tenant, score: hit.score, text: entry.text)
        }
        let used: SearchMode = usedVector && usedLexical ? .hybrid : (usedVector ? .vector : (usedLexical ? .lexical : request.mode))
        return SearchResponse(modeUsed: used, degraded: degraded,
                              notice: degraded ? CollectionMode.rebuildingNotice : nil, hits: hits,
                              emptyReason: hits.isEmpty ? emptyReason : nil)
    }

    /// One list: best score first. Two lists: reciprocal-rank fusion (scores of a graph and of
    /// BM25 are not comparable; ranks are).
    private func rank(vector: [PartitionHit]?, lexical: [PartitionHit]?, k: Int) -> [PartitionHit] {
        func best(_ hits: [PartitionHit]) -> [PartitionHit] {
            Array(hits.sorted { $0.score != $1.score ? $0.score > $1.score : $0.rowID < $1.rowID }.prefix(k))
        }
        switch (vector, lexical) {
        case let (vector?, lexical?):
            let lists = [best(vector), best(lexical)].map { $0.map { UInt64($0.rowID) } }
            return RankFusion.reciprocalRank(lists, k: k).map { PartitionHit(rowID: Int64($0.label), score: $0.score) }
        case let (vector?, nil): return best(vector)
        case let (nil, lexical?): return best(lexical)
        case (nil, nil): return []
        }
    }

    /// Input checks, each a typed error naming the problem.
    func validate(_ request: SearchRequest) throws(EngineError) {
        guard (1...SearchLimits.kMax).contains(request.k) else {
            throw EngineError(.invalidInput, "k must be in 1...\(SearchLimits.kMax), got \(request.k)")
        }
        if let ef = request.ef, !(1...SearchLimits.efMax).contains(ef) {
            throw EngineError(.invalidInput, "ef must be in 1...\(SearchLimits.efMax), got \(ef)")
        }
        if request.mode != .lexical {
            guard let vector = request.vector else {
                throw EngineError(.invalidInput, "\(request.mode.rawValue) search needs \"vector\"")
            }
            try validate(vector: vector, name: "vector")
        }
        if request.mode != .vector {
            guard let query = request.query else {
                throw EngineError(.invalidInput, "\(request.mode.rawValue) search needs \"query\"")
            }
            guard query.utf8.count <= SearchLimits.queryBytesMax else {
                throw EngineError(.queryTooLong, "query has \(query.utf8.count) bytes; the limit is \(SearchLimits.queryBytesMax)")
            }
        }
    }

    /// A vector of the collection's dimension with finite components (non-zero for cosine).
    func validate(vector: [Float], name: String) throws(EngineError) {
        guard vector.count == configuration.dimension else {
            throw EngineError(.dimensionMismatch, "\(name) has \(vector.count) dimensions; collection \(configuration.name) has \(configuration.dimension)")
        }
        if let bad = vector.firstIndex(where: { !$0.isFinite }) {
            throw EngineError(.invalidVector, "\(name)[\(bad)] is \(vector[bad]), not a finite number")
        }
        if configuration.metric == .cosine, !vector.contains(where: { $0 != 0 }) {
            throw EngineError(.invalidVector, "\(name) is all zeros; cosine similarity is undefined for it")
        }
    }
}
