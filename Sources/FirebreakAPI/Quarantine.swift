import Foundation

// Quarantine, release and feature flags of a collection.

public struct QuarantineBody: Codable, Sendable {
    public var ids: [String]
    public var reason: String
    public var incidentID: String?
    public var tenant: String?
    /// Per document id, a score that justified the action (a HubScan z), kept as evidence.
    public var scores: [String: Double]?
    enum CodingKeys: String, CodingKey { case ids, reason, tenant, scores, incidentID = "incident_id" }

    public init(ids: [String], reason: String, incidentID: String? = nil, tenant: String? = nil,
                scores: [String: Double]? = nil) {
        self.ids = ids
        self.reason = reason
        self.incidentID = incidentID
        self.tenant = tenant
        self.scores = scores
    }
}

public struct QuarantineResultBody: Codable, Sendable {
    public var incidentID: String
    public var quarantined: [String]
    public var alreadyQuarantined: [String]
    enum CodingKeys: String, CodingKey {
        case quarantined, incidentID = "incident_id", alreadyQuarantined = "already_quarantined"
    }

    public init(incidentID: String, quarantined: [String], alreadyQuarantined: [String]) {
        self.incidentID = incidentID
        self.quarantined = quarantined
        self.alreadyQuarantined = alreadyQuarantined
    }
}

public struct ReleaseResultBody: Codable, Sendable {
    public var incidentID: String
    public var released: [String]
    public var notQuarantined: [String]
    enum CodingKeys: String, CodingKey { case released, incidentID = "incident_id", notQuarantined = "not_quarantined" }

    public init(incidentID: String, released: [String], notQuarantined: [String]) {
        self.incidentID = incidentID
        self.released = released
        self.notQuarantined = notQuarantined
    }
}

public struct QuarantineEntryBody: Codable, Sendable {
    public var id: String
    public var tenant: String
    public var incidentID: String
    public var reason: String
    public var quarantinedBy: String
    public var quarantinedAt: String
    enum CodingKeys: String, CodingKey {
        case id, tenant, reason, incidentID = "incident_id", quarantinedBy = "quarantined_by", quarantinedAt = "quarantined_at"
    }

    public init(id: String, tenant: String, incidentID: String, reason: String, quarantinedBy: String, quarantinedAt: String) {
        self.id = id
        self.tenant = tenant
        self.incidentID = incidentID
        self.reason = reason
        self.quarantinedBy = quarantinedBy
        self.quarantinedAt = quarantinedAt
    }
}

public struct QuarantineListBody: Codable, Sendable {
    public var entries: [QuarantineEntryBody]

    public init(entries: [QuarantineEntryBody]) {
        self.entries = entries
    }
}

public struct SetFlagBody: Codable, Sendable {
    public var enabled: Bool
    public var incidentID: String?
    public var tenant: String?
    public var reason: String?
    enum CodingKeys: String, CodingKey { case enabled, tenant, reason, incidentID = "incident_id" }

    public init(enabled: Bool, incidentID: String? = nil, tenant: String? = nil, reason: String? = nil) {
        self.enabled = enabled
        self.incidentID = incidentID
        self.tenant = tenant
        self.reason = reason
    }
}

public struct FlagResultBody: Codable, Sendable {
    public var flag: String
    public var enabled: Bool
    public var tenant: String?
    public var incidentID: String
    enum CodingKeys: String, CodingKey { case flag, enabled, tenant, incidentID = "incident_id" }

    public init(flag: String, enabled: Bool, tenant: String? = nil, incidentID: String) {
        self.flag = flag
        self.enabled = enabled
        self.tenant = tenant
        self.incidentID = incidentID
    }
}

