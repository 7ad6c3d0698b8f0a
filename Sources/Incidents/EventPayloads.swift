import Foundation

/// What one kind of timeline event records, as a typed value: numbers as numbers, lists as
/// lists, documents by the collection's external id (the row id alongside). Encoded with
/// snake_case keys into the event's payload (version `EventPayloadVersion.current`).
public protocol EventPayload: Codable, Sendable {
    /// The kind the event is recorded as.
    var kind: EventKind { get }
}

/// The versions of an event's payload. Version 1 (round 1 up to this change) stored every
/// field as text (`"already_quarantined":"0"`, `"documents":"3,4"` of row ids, the blast
/// radius as a JSON array inside a string); version 2 stores the typed values below. Stored
/// bytes are never rewritten (the hash covers them); a version-1 payload is upgraded when it
/// is read (`EventPayloadUpgrade`).
public enum EventPayloadVersion {
    public static let legacyText = 1
    public static let current = 2
}

/// A document an event names: the collection's external id, and the row id alongside.
/// Version-1 events named row ids only, so `externalID` is nil for them.
public struct DocumentReference: Codable, Sendable, Equatable, Hashable {
    public var externalID: String?
    public var rowID: Int64

    public init(externalID: String?, rowID: Int64) {
        self.externalID = externalID
        self.rowID = rowID
    }

    enum CodingKeys: String, CodingKey { case externalID = "external_id", rowID = "row_id" }
}

// MARK: The incident's own entries

public struct Declared: EventPayload, Equatable {
    public var kind: EventKind { .declared }
    public var title: String
    public var severity: Severity
    public var taxonomyClass: TaxonomyClass
    public var detectedAt: String
    public var tenant: String?
    public var collection: String?
    public var traceparent: String?
    public var snapshotRootHash: String?

    enum CodingKeys: String, CodingKey {
        case title, severity, taxonomyClass = "class", detectedAt = "detected_at", tenant, collection, traceparent
        case snapshotRootHash = "snapshot_root_hash"
    }
}

public struct Transitioned: EventPayload, Equatable {
    public var kind: EventKind { .transitioned }
    public var from: IncidentStatus
    public var to: IncidentStatus
    public var reason: String
}

public struct CommanderAssigned: EventPayload, Equatable {
    public var kind: EventKind { .commanderAssigned }
    public var commander: String
    /// The commander handed over from; nil for the first.
    public var previous: String?
}

public struct DecisionRecorded: EventPayload, Equatable {
    public var kind: EventKind { .decision }
    public var what: String
    public var why: String
    public var optionsNotTaken: [String]

    enum CodingKeys: String, CodingKey { case what, why, optionsNotTaken = "options_not_taken" }
}

public struct EvidenceRecorded: EventPayload, Equatable {
    public var kind: EventKind { .evidence }
    public var evidenceKind: String
    public var sha256: String
    public var location: String
    public var summary: String

    enum CodingKeys: String, CodingKey { case evidenceKind = "kind", sha256, location, summary }
}

public struct ActionAdded: EventPayload, Equatable {
    public var kind: EventKind { .actionAdded }
    public var number: Int
    public var title: String
    public var owner: String
    public var due: String
    public var verification: String
}

public struct ActionClosed: EventPayload, Equatable {
    public var kind: EventKind { .actionClosed }
    public var number: Int
    public var verificationEvidence: String

    enum CodingKeys: String, CodingKey { case number, verificationEvidence = "verification_evidence" }
}

public struct PostmortemRecorded: EventPayload, Equatable {
    public var kind: EventKind { .postmortem }
    public var summary: String
    public var failingLayer: String
    public var rootCause: String
    public var evaluationGaps: String
    public var regressionCase: String

    enum CodingKeys: String, CodingKey {
        case summary, failingLayer = "failing_layer", rootCause = "root_cause", evaluationGaps = "evaluation_gaps"
        case regressionCase = "regression_case"
    }
}
