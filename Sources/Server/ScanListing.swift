import Engine
import FirebreakAPI
import Hummingbird
import HummingbirdCore
import Store

/// `GET /v1/collections/{name}/scans?limit=&before=`: one page of a collection's stored scans,
/// newest first, by keyset on the scan id (`before` exclusive; `next_before` continues).
enum ScanPageQuery {
    static let limitDefault = 50
    static let limitMax = ScanReportRecords.pageMax

    /// `(limit, before)` from the query; a value that is not a whole number in range is 400.
    static func parse(_ query: FlatDictionary<Substring, Substring>) throws(Problem) -> (limit: Int, before: Int64?) {
        var limit = limitDefault
        if let text = query["limit"], !text.isEmpty {
            guard let value = Int(text), (1...limitMax).contains(value) else {
                throw Problem(.badRequest, .invalidInput, "limit must be 1…\(limitMax)")
            }
            limit = value
        }
        var before: Int64?
        if let text = query["before"], !text.isEmpty {
            guard let value = Int64(text), value >= 1 else {
                throw Problem(.badRequest, .invalidInput, "before must be a scan id (1 or more), the previous page's next_before")
            }
            before = value
        }
        return (limit, before)
    }
}

extension API {
    /// A page of the stored scans of `collection` the caller may inspect, newest first: a
    /// tenant-scoped caller sees only its tenant's (as `GET /v1/scans/{id}` answers 404 for the others).
    func scans(of collection: LiveCollection, limit: Int, before: Int64?, caller: Caller) async throws -> ScanPageBody {
        try caller.require(.inspect)
        guard (1...ScanPageQuery.limitMax).contains(limit) else {
            throw Problem(.badRequest, .invalidInput, "limit must be 1…\(ScanPageQuery.limitMax)")
        }
        if let before, before < 1 { throw Problem(.badRequest, .invalidInput, "before must be a scan id (1 or more)") }
        let collectionID = collection.configuration.id
        let tenant = caller.tenant
        let page = try await pool.withConnection {
            try ScanReportRecords.page(collectionID: collectionID, tenant: tenant, before: before, limit: limit, on: $0)
        }
        return ScanPageBody(scans: page.summaries.map {
            ScanSummaryBody(id: $0.id, tenant: $0.tenant, maxZ: $0.maxZ, threshold: $0.threshold, flagged: $0.flagged,
                            snapshotID: $0.snapshotID, createdAt: $0.createdAt)
        }, nextBefore: page.nextBefore)
    }
}
