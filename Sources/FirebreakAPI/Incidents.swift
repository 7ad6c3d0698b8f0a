import Foundation
import Incidents

// `/v1/incidents`: declare, read, list, and what is recorded on an incident.

public struct DeclareIncidentBody: Codable, Sendable {
    public var title: String
    public var severity: String
    public var taxonomyClass: String?
    public var tenant: String?
    public var collection: String?
    public var traceparent: String?
    enum CodingKeys: String, CodingKey { case title, severity, tenant, collection, traceparent, taxonomyClass = "taxonomy_class" }

    public init(title: String, severity: String, taxonomyClass: String? = nil, tenant: String? = nil,
                collection: String? = nil, traceparent: String? = nil) {
        self.title = title
        self.severity = severity
        self.taxonomyClass = taxonomyClass
        self.tenant = tenant
        self.collection = collection
        self.traceparent = traceparent
    }
}

public struct IncidentBody: Codable, Sendable {
    public var id: String
    public var title: String
    public var severity: String
    public var taxonomyClass: String
    public var status: String
    public var reporter: String
    public var commander: String?
    public var tenant: String?
    public var collection: String?
    public var traceparent: String?
    public var snapshotRootHash: String?
    public var contained: Bool
    public var detectedAt: String
    public var events: Int
    enum CodingKeys: String, CodingKey {
        case id, title, severity, status, reporter, commander, tenant, collection, traceparent, contained, events
        case taxonomyClass = "taxonomy_class", snapshotRootHash = "snapshot_root_hash", detectedAt = "detected_at"
    }

    public init(id: String, title: String, severity: String, taxonomyClass: String, status: String, reporter: String,
                commander: String? = nil, tenant: String? = nil, collection: String? = nil, traceparent: String? = nil,
                snapshotRootHash: String? = nil, contained: Bool, detectedAt: String, events: Int) {
        self.id = id
        self.title = title
        self.severity = severity
        self.taxonomyClass = taxonomyClass
        self.status = status
        self.reporter = reporter
        self.commander = commander
        self.tenant = tenant
        self.collection = collection
        self.traceparent = traceparent
        self.snapshotRootHash = snapshotRootHash
        self.contained = contained
        self.detectedAt = detectedAt
        self.events = events
    }
}

public struct IncidentListBody: Codable, Sendable {
    public var incidents: [IncidentBody]

    public init(incidents: [IncidentBody]) {
        self.incidents = incidents
    }
}

public struct EventBody: Codable, Sendable {
    public var sequence: Int
    /// Sent as its slug (`rebuild_started`); a slug this build does not name reads as `unlisted`.
    public var kind: EventKind
    public var actor: String
    public var at: String
    /// The fields of the kind's typed payload (`decoded(_:)` reads them as that type).
    public var payload: PayloadFields
    /// 1 for an event written as flat text (round 1), 2 for a typed payload.
    public var payloadVersion: Int
    public var previousHash: String
    public var hash: String
    enum CodingKeys: String, CodingKey {
        case sequence, kind, actor, at, payload, hash, payloadVersion = "payload_version", previousHash = "previous_hash"
    }

    public init(sequence: Int, kind: EventKind, actor: String, at: String, payload: PayloadFields, payloadVersion: Int,
                previousHash: String, hash: String) {
        self.sequence = sequence
        self.kind = kind
        self.actor = actor
        self.at = at
        self.payload = payload
        self.payloadVersion = payloadVersion
        self.previousHash = previousHash
        self.hash = hash
    }

    /// The payload as its kind's typed value (`RebuildEnded`, `Quarantined`, …), whichever
    /// version wrote it.
    public func decoded<P: EventPayload>(_ type: P.Type) throws(IncidentError) -> P {
        try EventPayloadUpgrade.decode(type, kind: kind, version: payloadVersion, fields: payload)
    }
}

public struct TimelineBody: Codable, Sendable {
    public var incidentID: String
    public var events: [EventBody]
    enum CodingKeys: String, CodingKey { case events, incidentID = "incident_id" }

    public init(incidentID: String, events: [EventBody]) {
        self.incidentID = incidentID
        self.events = events
    }
}

public struct VerifyBody: Codable, Sendable {
    public var intact: Bool
    public var events: Int
    public var head: String
    public var firstBadSequence: Int?
    public var problem: String?
    enum CodingKeys: String, CodingKey { case intact, events, head, problem, firstBadSequence = "first_bad_sequence" }

    public init(intact: Bool, events: Int, head: String, firstBadSequence: Int? = nil, problem: String? = nil) {
        self.intact = intact
        self.events = events
        self.head = head
        self.firstBadSequence = firstBadSequence
        self.problem = problem
    }
}

public struct TransitionBody: Codable, Sendable {
    public var status: String
    public var reason: String

    public init(status: String, reason: String) {
        self.status = status
        self.reason = reason
    }
}

public struct DecisionBody: Codable, Sendable {
    public var what: String
    public var why: String
    public var optionsNotTaken: [String]?
    enum CodingKeys: String, CodingKey { case what, why, optionsNotTaken = "options_not_taken" }

    public init(what: String, why: String, optionsNotTaken: [String]? = nil) {
        self.what = what
        self.why = why
        self.optionsNotTaken = optionsNotTaken
    }
}

public struct EvidenceBody: Codable, Sendable {
    public var kind: String
    public var sha256: String
    public var location: String
    public var summary: String

    public init(kind: String, sha256: String, location: String, summary: String) {
        self.kind = kind
        self.sha256 = sha256
        self.location = location
        self.summary = summary
    }
}

public struct CommanderBody: Codable, Sendable {
    public var commander: String

    public init(commander: String) {
        self.commander = commander
    }
}

public struct PostmortemBody: Codable, Sendable {
    public var summary: String
    public var failingLayer: String
    public var rootCause: String
    public var evaluationGaps: String?
    public var regressionCase: String
    enum CodingKeys: String, CodingKey {
        case summary, failingLayer = "failing_layer", rootCause = "root_cause", evaluationGaps = "evaluation_gaps",
             regressionCase = "regression_case"
    }

    public init(summary: String, failingLayer: String, rootCause: String, evaluationGaps: String? = nil,
                regressionCase: String) {
        self.summary = summary
        self.failingLayer = failingLayer
        self.rootCause = rootCause
        self.evaluationGaps = evaluationGaps
        self.regressionCase = regressionCase
    }
}

/// `POST …/actions`: a new action item (title, owner, due, verification), or with `close`
/// the closing of item `close` with the evidence that verifies it.
public struct ActionBody: Codable, Sendable {
    public var title: String?
    public var owner: String?
    public var due: String?
    public var verification: String?
    public var close: Int?
    public var verificationEvidence: String?
    enum CodingKeys: String, CodingKey { case title, owner, due, verification, close, verificationEvidence = "verification_evidence" }

    public init(title: String? = nil, owner: String? = nil, due: String? = nil, verification: String? = nil,
                close: Int? = nil, verificationEvidence: String? = nil) {
        self.title = title
        self.owner = owner
        self.due = due
        self.verification = verification
        self.close = close
        self.verificationEvidence = verificationEvidence
    }
}

public struct ExposureBody: Codable, Sendable {
    public var tenant: String
    public var requests: Int
    public var first: String
    public var last: String
    public var traceIDs: [String]
    enum CodingKeys: String, CodingKey { case tenant, requests, first, last, traceIDs = "trace_ids" }

    public init(tenant: String, requests: Int, first: String, last: String, traceIDs: [String]) {
        self.tenant = tenant
        self.requests = requests
        self.first = first
        self.last = last
        self.traceIDs = traceIDs
    }
}

/// `GET /v1/incidents/{id}/blast-radius`: who was served the documents the incident quarantined.
public struct BlastRadiusBody: Codable, Sendable {
    public var incidentID: String
    public var documents: Int
    public var requests: Int
    public var tenants: [ExposureBody]
    enum CodingKeys: String, CodingKey { case documents, requests, tenants, incidentID = "incident_id" }

    public init(incidentID: String, documents: Int, requests: Int, tenants: [ExposureBody]) {
        self.incidentID = incidentID
        self.documents = documents
        self.requests = requests
        self.tenants = tenants
    }
}
