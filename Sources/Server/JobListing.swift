import FirebreakAPI
import Hummingbird
import HummingbirdCore
import Store

/// `GET /v1/jobs?collection=&state=&limit=`: which jobs to list. Empty or missing parameters
/// do not filter; an unknown state is 400 naming the allowed values. The collection is only
/// named here; `API.jobs` resolves it (an unknown one is 404 `unknown_collection`).
struct JobFilter: Sendable, Equatable {
    static let limitDefault = 100
    static let limitMax = JobRecords.listedMax

    var collection: String?
    var state: String?
    var limit = JobFilter.limitDefault

    init(collection: String? = nil, state: String? = nil, limit: Int = JobFilter.limitDefault) {
        self.collection = collection
        self.state = state
        self.limit = limit
    }

    init(query: FlatDictionary<Substring, Substring>) throws(Problem) {
        try self.init { query[Substring($0)].map(String.init) }
    }

    /// From any source of named values (query parameters, a console form).
    init(_ value: (String) -> String?) throws(Problem) {
        if let text = value("collection"), !text.isEmpty { collection = text }
        if let text = value("state"), !text.isEmpty {
            guard JobRecords.states.contains(text) else {
                throw Problem(.badRequest, .invalidInput, "state must be \(JobRecords.states.joined(separator: ", "))")
            }
            state = text
        }
        if let text = value("limit"), !text.isEmpty {
            guard let limit = Int(text), (1...Self.limitMax).contains(limit) else {
                throw Problem(.badRequest, .invalidInput, "limit must be 1…\(Self.limitMax)")
            }
            self.limit = limit
        }
    }
}

extension API {
    /// The jobs the caller may inspect, newest first: a tenant-scoped caller sees only its
    /// tenant's (as `GET /v1/jobs/{id}` answers 404 for the others).
    func jobs(_ filter: JobFilter, caller: Caller) async throws -> [JobBody] {
        try caller.require(.inspect)
        guard (1...JobFilter.limitMax).contains(filter.limit) else {
            throw Problem(.badRequest, .invalidInput, "limit must be 1…\(JobFilter.limitMax)")
        }
        if let state = filter.state, !JobRecords.states.contains(state) {
            throw Problem(.badRequest, .invalidInput, "state must be \(JobRecords.states.joined(separator: ", "))")
        }
        let collectionID = try filter.collection.map { try collections.named($0).configuration.id }
        let tenant = caller.tenant
        let records = try await pool.withConnection {
            try JobRecords.list(collectionID: collectionID, state: filter.state, tenant: tenant, limit: filter.limit, on: $0)
        }
        return records.map(jobBody)
    }
}
