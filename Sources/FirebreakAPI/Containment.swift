import Foundation
import HubScan

// Scans, scan schedules, rebuilds and the jobs they run as.

/// The scan settings a request or a schedule carries; each omitted one takes HubScan's default.
public struct ScanSettingsBody: Codable, Sendable, Equatable {
    public var sample: String?
    public var sampleSize: Int?
    public var k: Int?
    public var threshold: Double?
    public var budget: Double?
    public var seed: UInt64?
    enum CodingKeys: String, CodingKey { case sample, k, threshold, budget, seed, sampleSize = "sample_size" }

    public init(sample: String? = nil, sampleSize: Int? = nil, k: Int? = nil, threshold: Double? = nil,
                budget: Double? = nil, seed: UInt64? = nil) {
        self.sample = sample
        self.sampleSize = sampleSize
        self.k = k
        self.threshold = threshold
        self.budget = budget
        self.seed = seed
    }
}

/// `POST …/scans`: the scan settings (the same fields as a schedule's) plus scope and policy.
public struct ScanRequestBody: Codable, Sendable {
    public var settings: ScanSettingsBody
    public var tenant: String?
    public var domainField: String?
    /// What to do when documents reach the threshold: nothing (omitted), `alert` or `auto-contain`.
    public var policy: String?
    enum CodingKeys: String, CodingKey { case tenant, policy, domainField = "domain_field" }

    public init(settings: ScanSettingsBody = ScanSettingsBody(), tenant: String? = nil, domainField: String? = nil,
                policy: String? = nil) {
        self.settings = settings
        self.tenant = tenant
        self.domainField = domainField
        self.policy = policy
    }

    public init(from decoder: any Decoder) throws {
        settings = try ScanSettingsBody(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        tenant = try container.decodeIfPresent(String.self, forKey: .tenant)
        domainField = try container.decodeIfPresent(String.self, forKey: .domainField)
        policy = try container.decodeIfPresent(String.self, forKey: .policy)
    }

    public func encode(to encoder: any Encoder) throws {
        try settings.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(tenant, forKey: .tenant)
        try container.encodeIfPresent(domainField, forKey: .domainField)
        try container.encodeIfPresent(policy, forKey: .policy)
    }
}

/// `PUT …/scan-schedule`: how often, what to do, and the scan settings.
public struct ScheduleBody: Codable, Sendable {
    public var everySeconds: Int
    public var policy: String
    public var enabled: Bool?
    public var settings: ScanSettingsBody
    enum CodingKeys: String, CodingKey { case policy, enabled, everySeconds = "every_seconds" }

    public init(everySeconds: Int, policy: String, enabled: Bool? = nil, settings: ScanSettingsBody = ScanSettingsBody()) {
        self.everySeconds = everySeconds
        self.policy = policy
        self.enabled = enabled
        self.settings = settings
    }

    public init(from decoder: any Decoder) throws {
        settings = try ScanSettingsBody(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        everySeconds = try container.decode(Int.self, forKey: .everySeconds)
        policy = try container.decode(String.self, forKey: .policy)
        enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled)
    }

    public func encode(to encoder: any Encoder) throws {
        try settings.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(everySeconds, forKey: .everySeconds)
        try container.encode(policy, forKey: .policy)
        try container.encodeIfPresent(enabled, forKey: .enabled)
    }
}

/// One flagged document of a scan, by the collection's id.
public struct FlaggedDocumentBody: Codable, Sendable {
    public var id: String
    public var tenant: String
    public var z: Double
    public var score: Double
    public var detectors: ScanReport.Detectors
    public var explanation: ScanReport.Explanation

    public init(id: String, tenant: String, z: Double, score: Double, detectors: ScanReport.Detectors,
                explanation: ScanReport.Explanation) {
        self.id = id
        self.tenant = tenant
        self.z = z
        self.score = score
        self.detectors = detectors
        self.explanation = explanation
    }
}

/// What a scan's `auto-contain` or `alert` policy did.
public struct ContainmentBody: Codable, Sendable {
    public var incidentID: String
    public var quarantined: [String]
    public var frozenTenants: [String]
    public var rebuildJobs: [Int64]
    enum CodingKeys: String, CodingKey {
        case quarantined, incidentID = "incident_id", frozenTenants = "frozen_tenants", rebuildJobs = "rebuild_jobs"
    }

    public init(incidentID: String, quarantined: [String], frozenTenants: [String], rebuildJobs: [Int64]) {
        self.incidentID = incidentID
        self.quarantined = quarantined
        self.frozenTenants = frozenTenants
        self.rebuildJobs = rebuildJobs
    }
}

/// `POST …/scans` and `GET /v1/scans/{id}`: the highest z, its threshold, the flagged
/// documents by id, and the full report.
public struct ScanResultBody: Codable, Sendable {
    public var id: Int64
    public var tenant: String?
    public var maxZ: Double
    public var threshold: Double
    public var flagged: [FlaggedDocumentBody]
    public var report: LabelledScanReport
    public var containment: ContainmentBody?
    enum CodingKeys: String, CodingKey { case id, tenant, threshold, flagged, report, containment, maxZ = "max_z" }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(tenant, forKey: .tenant)  // null for a whole-collection scan
        try container.encode(maxZ, forKey: .maxZ)
        try container.encode(threshold, forKey: .threshold)
        try container.encode(flagged, forKey: .flagged)
        try container.encode(report, forKey: .report)
        try container.encodeIfPresent(containment, forKey: .containment)
    }

    public init(id: Int64, tenant: String? = nil, maxZ: Double, threshold: Double, flagged: [FlaggedDocumentBody],
                report: LabelledScanReport, containment: ContainmentBody? = nil) {
        self.id = id
        self.tenant = tenant
        self.maxZ = maxZ
        self.threshold = threshold
        self.flagged = flagged
        self.report = report
        self.containment = containment
    }
}

/// One stored scan as `GET /v1/collections/{name}/scans` lists it (`GET /v1/scans/{id}` has
/// the report). `tenant` and `snapshot_id` are sent as null when absent.
public struct ScanSummaryBody: Codable, Sendable, Equatable {
    public var id: Int64
    /// nil: the whole collection was scanned.
    public var tenant: String?
    public var maxZ: Double
    public var threshold: Double
    /// How many documents the report flags.
    public var flagged: Int
    /// The snapshot scanned; nil for a scan of the served index.
    public var snapshotID: String?
    public var createdAt: String
    enum CodingKeys: String, CodingKey {
        case id, tenant, threshold, flagged, maxZ = "max_z", snapshotID = "snapshot_id", createdAt = "created_at"
    }

    public init(id: Int64, tenant: String? = nil, maxZ: Double, threshold: Double, flagged: Int, snapshotID: String? = nil,
                createdAt: String) {
        self.id = id
        self.tenant = tenant
        self.maxZ = maxZ
        self.threshold = threshold
        self.flagged = flagged
        self.snapshotID = snapshotID
        self.createdAt = createdAt
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(tenant, forKey: .tenant)  // null for a whole-collection scan
        try container.encode(maxZ, forKey: .maxZ)
        try container.encode(threshold, forKey: .threshold)
        try container.encode(flagged, forKey: .flagged)
        try container.encode(snapshotID, forKey: .snapshotID)  // null for a scan of the served index
        try container.encode(createdAt, forKey: .createdAt)
    }
}

/// `GET /v1/collections/{name}/scans`: a page, newest first; `next_before` (null on the last
/// page) is the `before` of the next.
public struct ScanPageBody: Codable, Sendable, Equatable {
    public var scans: [ScanSummaryBody]
    public var nextBefore: Int64?
    enum CodingKeys: String, CodingKey { case scans, nextBefore = "next_before" }

    public init(scans: [ScanSummaryBody], nextBefore: Int64? = nil) {
        self.scans = scans
        self.nextBefore = nextBefore
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(scans, forKey: .scans)
        try container.encode(nextBefore, forKey: .nextBefore)  // null: this is the last page
    }
}

public struct RebuildBody: Codable, Sendable {
    public var tenant: String?
    public var incidentID: String?
    public var reason: String?
    public var validateScan: Bool?
    public var threshold: Double?
    public var goldenMRRDropMax: Double?
    enum CodingKeys: String, CodingKey {
        case tenant, reason, threshold, incidentID = "incident_id", validateScan = "validate_scan"
        case goldenMRRDropMax = "golden_mrr_drop_max"
    }

    public init(tenant: String? = nil, incidentID: String? = nil, reason: String? = nil, validateScan: Bool? = nil,
                threshold: Double? = nil, goldenMRRDropMax: Double? = nil) {
        self.tenant = tenant
        self.incidentID = incidentID
        self.reason = reason
        self.validateScan = validateScan
        self.threshold = threshold
        self.goldenMRRDropMax = goldenMRRDropMax
    }
}

public struct JobStartedBody: Codable, Sendable {
    public var jobID: Int64
    public var incidentID: String?
    enum CodingKeys: String, CodingKey { case jobID = "job_id", incidentID = "incident_id" }

    public init(jobID: Int64, incidentID: String? = nil) {
        self.jobID = jobID
        self.incidentID = incidentID
    }
}

/// A job's state: `queued`, `running`, then one of `succeeded`, `failed`, `cancelled`.
public struct JobBody: Codable, Sendable {
    public static let succeeded = "succeeded"
    public static let finishedStates: Set<String> = [succeeded, "failed", "cancelled"]
    public var isFinished: Bool { Self.finishedStates.contains(state) }

    public var id: Int64
    public var kind: String
    public var state: String
    public var progress: Double
    public var etaSeconds: Double?
    public var error: String?
    public var collection: String?
    public var tenant: String?
    public var incidentID: String
    public var createdAt: String
    enum CodingKeys: String, CodingKey {
        case id, kind, state, progress, error, collection, tenant
        case etaSeconds = "eta_seconds", incidentID = "incident_id", createdAt = "created_at"
    }

    public init(id: Int64, kind: String, state: String, progress: Double, etaSeconds: Double? = nil, error: String? = nil,
                collection: String? = nil, tenant: String? = nil, incidentID: String, createdAt: String) {
        self.id = id
        self.kind = kind
        self.state = state
        self.progress = progress
        self.etaSeconds = etaSeconds
        self.error = error
        self.collection = collection
        self.tenant = tenant
        self.incidentID = incidentID
        self.createdAt = createdAt
    }
}

/// `GET /v1/jobs`: newest first.
public struct JobListBody: Codable, Sendable {
    public var jobs: [JobBody]

    public init(jobs: [JobBody]) {
        self.jobs = jobs
    }
}
