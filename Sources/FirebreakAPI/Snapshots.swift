import Foundation

// `/v1/collections/{name}/snapshots` and rollback.

public struct SnapshotBody: Codable, Sendable {
    public var id: String
    public var rootHash: String
    public var status: String
    public var parent: String?
    public var documents: Int?
    public var tenants: [String]?
    public var createdAt: String?
    public var scanReportID: Int64?
    public var seconds: Double?
    enum CodingKeys: String, CodingKey {
        case id, status, parent, documents, tenants, seconds
        case rootHash = "root_hash", createdAt = "created_at", scanReportID = "scan_report_id"
    }

    public init(id: String, rootHash: String, status: String, parent: String? = nil, documents: Int? = nil,
                tenants: [String]? = nil, createdAt: String? = nil, scanReportID: Int64? = nil, seconds: Double? = nil) {
        self.id = id
        self.rootHash = rootHash
        self.status = status
        self.parent = parent
        self.documents = documents
        self.tenants = tenants
        self.createdAt = createdAt
        self.scanReportID = scanReportID
        self.seconds = seconds
    }
}

public struct SnapshotListBody: Codable, Sendable {
    public var snapshots: [SnapshotBody]

    public init(snapshots: [SnapshotBody]) {
        self.snapshots = snapshots
    }
}

public struct VerificationBody: Codable, Sendable {
    public var id: String
    public var rootHash: String
    public var status: String
    public var clean: Bool
    public var scanID: Int64
    public var maxZ: Double
    public var threshold: Double
    public var flagged: Int
    enum CodingKeys: String, CodingKey {
        case id, status, clean, threshold, flagged
        case rootHash = "root_hash", scanID = "scan_id", maxZ = "max_z"
    }

    public init(id: String, rootHash: String, status: String, clean: Bool, scanID: Int64, maxZ: Double, threshold: Double,
                flagged: Int) {
        self.id = id
        self.rootHash = rootHash
        self.status = status
        self.clean = clean
        self.scanID = scanID
        self.maxZ = maxZ
        self.threshold = threshold
        self.flagged = flagged
    }
}

public struct RollbackBody: Codable, Sendable {
    public var snapshotID: String
    public var incidentID: String?
    public var tenant: String?
    public var reason: String?
    enum CodingKeys: String, CodingKey { case tenant, reason, snapshotID = "snapshot_id", incidentID = "incident_id" }

    public init(snapshotID: String, incidentID: String? = nil, tenant: String? = nil, reason: String? = nil) {
        self.snapshotID = snapshotID
        self.incidentID = incidentID
        self.tenant = tenant
        self.reason = reason
    }
}

public struct RollbackResultBody: Codable, Sendable {
    public var snapshotID: String
    public var rootHash: String
    public var incidentID: String
    public var tenants: [String]
    public var documents: Int
    public var retired: Int
    public var seconds: Double
    public var phases: [String: Double]
    enum CodingKeys: String, CodingKey {
        case tenants, documents, retired, seconds, phases
        case snapshotID = "snapshot_id", rootHash = "root_hash", incidentID = "incident_id"
    }

    public init(snapshotID: String, rootHash: String, incidentID: String, tenants: [String], documents: Int, retired: Int,
                seconds: Double, phases: [String: Double]) {
        self.snapshotID = snapshotID
        self.rootHash = rootHash
        self.incidentID = incidentID
        self.tenants = tenants
        self.documents = documents
        self.retired = retired
        self.seconds = seconds
        self.phases = phases
    }
}
