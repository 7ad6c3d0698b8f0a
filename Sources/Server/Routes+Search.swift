import Dispatch
import Engine
import FirebreakAPI
import HTTPTypes
import Hummingbird
import Incidents

extension API {
    func addSearchRoutes(to router: Router<APIContext>) {
        router.post("/v1/collections/:name/search") { request, context in
            let started = DispatchTime.now().uptimeNanoseconds
            let caller = try context.requireCaller()
            try caller.require(.read)
            let body = try decode(SearchBody.self, from: try await self.body(of: request))
            let collection = try await self.collection(try context.parameters.require("name"), minSeq: body.minSeq)
            var search = try searchRequest(body, caller: caller)
            search.traceID = TraceContext.current?.traceID  // the request's trace (TraceMiddleware)
            let engineStarted = DispatchTime.now().uptimeNanoseconds
            let response = try collection.search(search)
            let finished = DispatchTime.now().uptimeNanoseconds
            metrics.searched(mode: response.modeUsed, degraded: response.degraded, nanoseconds: finished - engineStarted)
            return Self.response(try reply(SearchResultBody(
                modeUsed: response.modeUsed.rawValue, degraded: response.degraded, notice: response.notice, snapshot: nil,
                results: response.hits.map { SearchResultItem(id: $0.externalID, score: $0.score, text: $0.text, tenant: $0.tenant) },
                tookMs: Double(finished - started) / 1e6, emptyReason: response.emptyReason)))
        }
    }

    /// The engine's request: the mode (given, or inferred from which of vector and query are
    /// present), k (default 10), and the caller's tenant.
    func searchRequest(_ body: SearchBody, caller: Caller) throws(Problem) -> SearchRequest {
        let mode: SearchMode
        if let name = body.mode {
            guard let parsed = SearchMode(rawValue: name) else {
                throw Problem(.badRequest, .invalidInput, "mode must be \"vector\", \"lexical\" or \"hybrid\"")
            }
            mode = parsed
        } else {
            switch (body.vector != nil, body.query != nil) {
            case (true, true): mode = .hybrid
            case (false, true): mode = .lexical
            default: mode = .vector
            }
        }
        try requireWithinLimits(body)
        return SearchRequest(mode: mode, vector: body.vector, query: body.query, k: body.k ?? 10,
                             tenant: try caller.tenant(requested: body.tenant), ef: body.ef)
    }

    /// This service's own limits on a search (`ServerLimits`, at most the engine's).
    private func requireWithinLimits(_ body: SearchBody) throws(Problem) {
        if let k = body.k, !(1...limits.kMax).contains(k) {
            throw Problem(.badRequest, .invalidInput, "k must be in 1...\(limits.kMax) (kMax), got \(k)")
        }
        if let ef = body.ef, !(1...limits.efMax).contains(ef) {
            throw Problem(.badRequest, .invalidInput, "ef must be in 1...\(limits.efMax) (efMax), got \(ef)")
        }
        if let query = body.query, query.utf8.count > limits.queryBytesMax {
            throw Problem(.badRequest, .queryTooLong, "query has \(query.utf8.count) bytes; the limit is \(limits.queryBytesMax) (queryBytesMax)")
        }
    }
}
