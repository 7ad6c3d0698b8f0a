import Foundation

// The payloads of the events containment writes: quarantine and release, flags, the blast
// radius, rollback and rebuild. Each names the collection by its row id (and by name where
// the writer knows it) and its documents by `DocumentReference`.

public struct Quarantined: EventPayload, Equatable {
    public var kind: EventKind { .quarantined }
    public var collectionID: Int64
    /// The documents newly withheld by this event.
    public var documents: [DocumentReference]
    /// Documents asked for that were already withheld (left as they were).
    public var alreadyQuarantined: Int
    public var reason: String
    /// SHA-256 over the evidence captured per document before the mutation; nil when the
    /// caller captured none (version-1 events of the Store's own tests).
    public var evidenceSHA256: String?
    public var evidenceDocuments: Int?

    public init(collectionID: Int64, documents: [DocumentReference], alreadyQuarantined: Int, reason: String,
                evidenceSHA256: String? = nil, evidenceDocuments: Int? = nil) {
        self.collectionID = collectionID
        self.documents = documents
        self.alreadyQuarantined = alreadyQuarantined
        self.reason = reason
        self.evidenceSHA256 = evidenceSHA256
        self.evidenceDocuments = evidenceDocuments
    }

    enum CodingKeys: String, CodingKey {
        case collectionID = "collection_id", documents, alreadyQuarantined = "already_quarantined", reason
        case evidenceSHA256 = "evidence_sha256", evidenceDocuments = "evidence_documents"
    }
}

public struct Released: EventPayload, Equatable {
    public var kind: EventKind { .released }
    public var collectionID: Int64
    public var documents: [DocumentReference]
    public var reason: String

    public init(collectionID: Int64, documents: [DocumentReference], reason: String) {
        self.collectionID = collectionID
        self.documents = documents
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey { case collectionID = "collection_id", documents, reason }
}

public struct FlagChanged: EventPayload, Equatable {
    public var kind: EventKind { .flagChanged }
    public var collectionID: Int64
    public var flag: String
    /// "" for the whole collection.
    public var tenant: String
    public var enabled: Bool

    public init(collectionID: Int64, flag: String, tenant: String, enabled: Bool) {
        self.collectionID = collectionID
        self.flag = flag
        self.tenant = tenant
        self.enabled = enabled
    }

    enum CodingKeys: String, CodingKey { case collectionID = "collection_id", flag, tenant, enabled }
}

/// Who was served the incident's documents before they were withheld, per tenant.
public struct BlastRadiusMeasured: EventPayload, Equatable {
    public var kind: EventKind { .blastRadius }
    public var documents: Int
    public var requests: Int
    public var tenants: Int
    /// The newest few traces per tenant (the route lists more).
    public var byTenant: [TenantExposure]

    public init(documents: Int, requests: Int, tenants: Int, byTenant: [TenantExposure]) {
        self.documents = documents
        self.requests = requests
        self.tenants = tenants
        self.byTenant = byTenant
    }

    public struct TenantExposure: Codable, Sendable, Equatable {
        public var tenant: String
        public var requests: Int
        /// ISO 8601, UTC.
        public var first: String
        public var last: String
        public var traceIDs: [String]

        public init(tenant: String, requests: Int, first: String, last: String, traceIDs: [String]) {
            self.tenant = tenant
            self.requests = requests
            self.first = first
            self.last = last
            self.traceIDs = traceIDs
        }

        enum CodingKeys: String, CodingKey { case tenant, requests, first, last, traceIDs = "trace_ids" }
    }

    enum CodingKeys: String, CodingKey { case documents, requests, tenants, byTenant = "by_tenant" }
}

public struct RolledBack: EventPayload, Equatable {
    public var kind: EventKind { .rollback }
    public var snapshotID: String
    public var rootHash: String?
    public var collection: String
    public var tenants: [String]
    /// Documents the restored snapshot never held, no longer live (kept as evidence).
    public var documentsRetired: Int

    public init(snapshotID: String, rootHash: String?, collection: String, tenants: [String], documentsRetired: Int) {
        self.snapshotID = snapshotID
        self.rootHash = rootHash
        self.collection = collection
        self.tenants = tenants
        self.documentsRetired = documentsRetired
    }

    enum CodingKeys: String, CodingKey {
        case snapshotID = "snapshot_id", rootHash = "root_hash", collection, tenants, documentsRetired = "documents_retired"
    }
}

public struct RebuildStarted: EventPayload, Equatable {
    public var kind: EventKind { .rebuildStarted }
    public var jobID: Int64
    public var collection: String
    public var tenants: [String]

    public init(jobID: Int64, collection: String, tenants: [String]) {
        self.jobID = jobID
        self.collection = collection
        self.tenants = tenants
    }

    enum CodingKeys: String, CodingKey { case jobID = "job_id", collection, tenants }
}

/// The end of a rebuild job: succeeded, failed or cancelled (the event's kind says which).
public struct RebuildEnded: EventPayload, Equatable {
    public enum State: String, Codable, Sendable { case succeeded, failed, cancelled }

    public var state: State
    public var kind: EventKind {
        switch state {
        case .succeeded: .rebuildSucceeded
        case .failed: .rebuildFailed
        case .cancelled: .rebuildCancelled
        }
    }
    public var jobID: Int64
    public var tenants: [String]
    /// Per tenant, what validation of its rebuilt graph found (self-recall, the scan's max z,
    /// golden-query MRR), for the tenants validated before the job ended.
    public var validation: [String: [String: PayloadValue]]
    /// Why it failed (the first 1,000 characters).
    public var error: String?

    public init(state: State, jobID: Int64, tenants: [String], validation: [String: [String: PayloadValue]], error: String?) {
        self.state = state
        self.jobID = jobID
        self.tenants = tenants
        self.validation = validation
        self.error = error
    }

    // `state` is the event's kind, not a payload field.
    enum CodingKeys: String, CodingKey { case jobID = "job_id", tenants, validation, error }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let state = decoder.userInfo[.eventKind].flatMap({ ($0 as? EventKind).flatMap(Self.state(of:)) }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "a rebuild end decodes from its event (the kind is its state)"))
        }
        self.state = state
        jobID = try container.decode(Int64.self, forKey: .jobID)
        tenants = try container.decode([String].self, forKey: .tenants)
        validation = try container.decodeIfPresent([String: [String: PayloadValue]].self, forKey: .validation) ?? [:]
        error = try container.decodeIfPresent(String.self, forKey: .error)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(jobID, forKey: .jobID)
        try container.encode(tenants, forKey: .tenants)
        try container.encode(validation, forKey: .validation)
        try container.encodeIfPresent(error, forKey: .error)
    }

    static func state(of kind: EventKind) -> State? {
        switch kind {
        case .rebuildSucceeded: .succeeded
        case .rebuildFailed: .failed
        case .rebuildCancelled: .cancelled
        default: nil
        }
    }
}

extension CodingUserInfoKey {
    /// The kind of the event a payload is decoded from (a rebuild end's state is its kind).
    static let eventKind = CodingUserInfoKey(rawValue: "firebreak.eventKind")!
}
