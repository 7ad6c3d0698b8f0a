import Foundation
import Incidents

/// Incidents and their hash-chained timelines in PostgreSQL. Events are only ever inserted;
/// `load` returns the rows as stored, so `Timeline.verify()` finds any edit made in SQL.
public enum IncidentRecords {
    /// Declares an incident with the next `INC-nnnnnn` id; the incident row and its first
    /// event are written in one transaction.
    public static func declare(title: String, severity: Severity, taxonomyClass: TaxonomyClass, reporter: String,
                               detectedAt: Date, tenant: String? = nil, collection: String? = nil,
                               traceparent: String? = nil, snapshotRootHash: String? = nil,
                               on connection: Connection) throws -> (Incident, Timeline) {
        try connection.transaction { c in
            let number = try c.query("SELECT nextval('incident_numbers') AS n")[0].integer("n")
            let (incident, timeline) = try Incident.declare(
                id: String(format: "INC-%06lld", number), title: title, severity: severity, taxonomyClass: taxonomyClass,
                reporter: reporter, detectedAt: detectedAt, tenant: tenant, collection: collection,
                traceparent: traceparent, snapshotRootHash: snapshotRootHash)
            try c.query("""
                INSERT INTO incidents (id, title, severity, taxonomy_class, status, reporter, tenant, collection,
                                       traceparent, snapshot_root_hash, contained, detected_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::timestamptz)
                """, [.text(incident.id), .text(title), .text(severity.rawValue), .text(taxonomyClass.rawValue),
                      .text(incident.status.rawValue), .text(reporter), optional(tenant), optional(collection),
                      optional(traceparent), optional(snapshotRootHash), .boolean(false), .text(incident.detectedAt)])
            try insert(timeline.events, on: c)
            return (incident, timeline)
        }
    }

    /// Moves an incident along its lifecycle and records the event.
    public static func transition(_ id: String, to status: IncidentStatus, reason: String, actor: String,
                                  on connection: Connection) throws -> Incident {
        try connection.transaction { c in
            try change(id, on: c) { incident, timeline in
                try incident.transition(to: status, reason: reason, actor: actor, timeline: &timeline)
            }.0
        }
    }

    /// Names the incident commander; the row and the event change together.
    public static func assignCommander(_ id: String, commander: String, actor: String,
                                       on connection: Connection) throws -> Incident {
        try connection.transaction { c in
            try change(id, on: c) { incident, timeline in
                try incident.assignCommander(commander, actor: actor, timeline: &timeline)
            }.0
        }
    }

    /// Records entries on an open incident (decisions, evidence, action items, postmortem):
    /// `body` appends to the timeline, and the new events are stored in one transaction.
    public static func record(_ id: String, on connection: Connection,
                              _ body: (inout Timeline) throws -> Void) throws -> Timeline {
        try connection.transaction { c in try change(id, on: c) { _, timeline in try body(&timeline) }.1 }
    }

    /// Appends one event; for other Store records (quarantine) inside their own transaction.
    /// Reads only the incident's status and its last event (a tail timeline), so the cost does
    /// not grow with the timeline: an incident may collect thousands of quarantines.
    public static func appendEvent(_ payload: some EventPayload, to id: String, actor: String,
                                   on connection: Connection) throws {
        guard let row = try connection.query("SELECT status FROM incidents WHERE id = $1 FOR UPDATE", [.text(id)]).first else {
            throw StoreError(.unknownReference, "no incident \(id)")
        }
        guard IncidentStatus(rawValue: try row.string("status"))?.isOpen == true else {
            throw StoreError(.invalidInput, "incident \(id) is closed; open a new one")
        }
        let last = try connection.query("""
            SELECT sequence, hash FROM incident_events WHERE incident_id = $1 ORDER BY sequence DESC LIMIT 1
            """, [.text(id)]).first
        var tail = Timeline(incidentID: id, continuing: try last.map { (Int(try $0.integer("sequence")), try $0.string("hash")) })
        try tail.append(payload, actor: actor)
        try insert(tail.events, on: connection)
    }

    /// The newest incident still open (not resolved or closed) on `collection` and `tenant` (nil:
    /// the whole collection) that `reporter` declared with `taxonomyClass`: where a repeated
    /// finding of the same reporter belongs, instead of a new incident.
    public static func newestOpen(collection: String, tenant: String?, reporter: String, taxonomyClass: TaxonomyClass,
                                  on connection: Connection) throws -> String? {
        try connection.query("""
            SELECT id FROM incidents
            WHERE collection = $1 AND tenant IS NOT DISTINCT FROM $2 AND reporter = $3 AND taxonomy_class = $4
              AND status IN ('declared', 'contained', 'mitigated')
            ORDER BY declared_at DESC, id DESC LIMIT 1
            """, [.text(collection), optional(tenant), .text(reporter), .text(taxonomyClass.rawValue)]).first?.string("id")
    }

    /// Locks the incident's row until the caller's transaction ends (`unknown_reference` if
    /// there is none): what `change` takes first, for a check that must hold until the change.
    public static func lock(_ id: String, on connection: Connection) throws {
        guard try !connection.query("SELECT 1 FROM incidents WHERE id = $1 FOR UPDATE", [.text(id)]).isEmpty else {
            throw StoreError(.unknownReference, "no incident \(id)")
        }
    }

    /// The one way an incident changes, inside the caller's transaction: lock its row (so
    /// concurrent writers chain one after the other), refuse a closed incident, let `body`
    /// change the model, store the new events and the row's mutable fields.
    private static func change(_ id: String, on connection: Connection,
                               _ body: (inout Incident, inout Timeline) throws -> Void) throws -> (Incident, Timeline) {
        try lock(id, on: connection)
        var (incident, timeline) = try load(id, on: connection)
        guard incident.status.isOpen else { throw StoreError(.invalidInput, "incident \(id) is closed; open a new one") }
        let known = timeline.events.count
        try body(&incident, &timeline)
        try insert(Array(timeline.events[known...]), on: connection)
        try connection.query("UPDATE incidents SET status = $2, contained = $3, commander = $4 WHERE id = $1",
                             [.text(id), .text(incident.status.rawValue), .boolean(incident.contained),
                              incident.commander.map(SQLValue.text) ?? .null])
        return (incident, timeline)
    }

    /// The incident and its timeline, exactly as stored.
    public static func load(_ id: String, on connection: Connection) throws -> (Incident, Timeline) {
        (try loadIncident(id, on: connection), Timeline(incidentID: id, events: try events(of: id, on: connection)))
    }

    /// The incident's row alone, without its timeline (what a reference or a status check needs).
    public static func loadIncident(_ id: String, on connection: Connection) throws -> Incident {
        guard let row = try connection.query("""
            SELECT id, title, severity, taxonomy_class, status, reporter, commander, tenant, collection, traceparent,
                   snapshot_root_hash, contained,
                   to_char(detected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS detected_at
            FROM incidents WHERE id = $1
            """, [.text(id)]).first else {
            throw StoreError(.unknownReference, "no incident \(id)")
        }
        let taxonomy = TaxonomyClass(stored: try row.string("taxonomy_class"))
        guard let severity = Severity(rawValue: try row.string("severity")),
              let status = IncidentStatus(rawValue: try row.string("status")) else {
            throw StoreError(.decodingFailed, "incident \(id) has an unknown severity, class or status")
        }
        let incident = Incident(
            restoring: id, title: try row.string("title"), severity: severity, taxonomyClass: taxonomy, status: status,
            reporter: try row.string("reporter"), commander: try row.optionalString("commander"),
            tenant: try row.optionalString("tenant"), collection: try row.optionalString("collection"),
            traceparent: try row.optionalString("traceparent"), snapshotRootHash: try row.optionalString("snapshot_root_hash"),
            contained: try row.boolean("contained"), detectedAt: try row.string("detected_at"))
        return incident
    }

    private static func events(of id: String, on connection: Connection) throws -> [IncidentEvent] {
        let decoder = JSONDecoder()  // one for every row: a timeline can hold thousands of events
        return try connection.query("""
            SELECT incident_id, sequence, kind, actor, at, payload::text AS payload, payload_version, previous_hash, hash
            FROM incident_events WHERE incident_id = $1 ORDER BY sequence
            """, [.text(id)]).map { row in
            guard let payload = try? decoder.decode(PayloadFields.self, from: Data(try row.string("payload").utf8)) else {
                throw StoreError(.decodingFailed, "an event payload of \(id) is not a JSON object")
            }
            return IncidentEvent(incidentID: try row.string("incident_id"), sequence: Int(try row.integer("sequence")),
                                 kind: EventKind(slug: try row.string("kind")), actor: try row.string("actor"), at: try row.string("at"),
                                 payload: payload, payloadVersion: Int(try row.integer("payload_version")),
                                 previousHash: try row.string("previous_hash"), hash: try row.string("hash"))
        }
    }

    private static func insert(_ events: [IncidentEvent], on connection: Connection) throws {
        for event in events {
            let payload = String(decoding: try Self.payloadEncoder.encode(event.payload), as: UTF8.self)
            try connection.query("""
                INSERT INTO incident_events (incident_id, sequence, kind, actor, at, payload, payload_version, previous_hash, hash)
                VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9)
                """, [.text(event.incidentID), .integer(Int64(event.sequence)), .text(event.kind.slug), .text(event.actor),
                      .text(event.at), .text(payload), .integer(Int64(event.payloadVersion)), .text(event.previousHash),
                      .text(event.hash)])
        }
    }

    private static var payloadEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    private static func optional(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }
}
