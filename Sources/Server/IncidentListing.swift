import FirebreakAPI
import Hummingbird
import HummingbirdCore
import Incidents
import Store

/// `GET /v1/incidents?status=&severity=&limit=`: which incidents to list. Empty or missing
/// parameters do not filter; an unknown status or severity is 400 naming the allowed values.
struct IncidentFilter: Sendable, Equatable {
    static let limitDefault = 100
    static let limitMax = 500

    var status: IncidentStatus?
    var severity: Severity?
    var limit = IncidentFilter.limitDefault

    init(status: IncidentStatus? = nil, severity: Severity? = nil, limit: Int = IncidentFilter.limitDefault) {
        self.status = status
        self.severity = severity
        self.limit = limit
    }

    init(query: FlatDictionary<Substring, Substring>) throws(Problem) {
        try self.init { query[Substring($0)].map(String.init) }
    }

    /// From any source of named values (query parameters, a console form).
    init(_ value: (String) -> String?) throws(Problem) {
        if let text = value("status"), !text.isEmpty {
            guard let status = IncidentStatus(rawValue: text) else {
                throw Problem(.badRequest, .invalidInput, "status must be declared, contained, mitigated, resolved or closed")
            }
            self.status = status
        }
        if let text = value("severity"), !text.isEmpty {
            guard let severity = Severity(rawValue: text) else {
                throw Problem(.badRequest, .invalidInput, "severity must be one of SEV-0 … SEV-4")
            }
            self.severity = severity
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
    /// The incidents the caller may inspect, newest first: a tenant-scoped caller sees only
    /// its tenant's (as `GET /v1/incidents/{id}` answers 404 for the others).
    ///
    /// The query belongs in `Store.IncidentRecords` beside `load`; it is here only because the
    /// console's change was kept out of the Store module. Each row is read back through
    /// `IncidentRecords.loadIncident`, so the mapping of a row to an `Incident` stays in one place.
    func incidents(_ filter: IncidentFilter, caller: Caller) async throws -> [IncidentBody] {
        try caller.require(.inspect)
        precondition((1...IncidentFilter.limitMax).contains(filter.limit), "the filter's limit was validated")
        let parameters: [SQLValue] = [filter.status.map { .text($0.rawValue) } ?? .null,
                                      filter.severity.map { .text($0.rawValue) } ?? .null,
                                      caller.tenant.map(SQLValue.text) ?? .null, .integer(Int64(filter.limit))]
        return try await pool.withConnection { connection in
            try connection.query("""
                SELECT i.id, (SELECT count(*) FROM incident_events e WHERE e.incident_id = i.id) AS events
                FROM incidents i
                WHERE ($1::text IS NULL OR i.status = $1) AND ($2::text IS NULL OR i.severity = $2)
                  AND ($3::text IS NULL OR i.tenant = $3)
                ORDER BY i.declared_at DESC, i.id DESC
                LIMIT $4::bigint
                """, parameters).map { row in
                IncidentBody(try IncidentRecords.loadIncident(try row.string("id"), on: connection),
                             events: Int(try row.integer("events")))
            }
        }
    }
}
