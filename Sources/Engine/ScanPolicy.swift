import Crypto
import Foundation
import Hex
import HubScan
import Incidents
import Store

/// The scan settings a request or a schedule carries (snake_case on the wire and in storage).
public struct ScanSettings: Codable, Sendable, Equatable {
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

    public func options() throws(EngineError) -> HubScanner.Options {
        var options = HubScanner.Options()
        if let sample {
            guard let kind = SampleKind(rawValue: sample) else {
                throw EngineError(.invalidInput, "sample must be documents, centroids, mixed or queries (the answered-query reservoir)")
            }
            options.sample = kind
        }
        options.sampleSize = sampleSize ?? options.sampleSize
        options.k = k ?? options.k
        options.threshold = threshold ?? options.threshold
        options.budget = budget
        options.seed = seed ?? options.seed
        try Self.validate(options)
        return options
    }

    /// The ranges that do not depend on the collection, checked when settings arrive (a
    /// schedule is refused when it is put, not every time it runs); the scanner checks k
    /// against the collection's size when it runs.
    static func validate(_ options: HubScanner.Options) throws(EngineError) {
        guard (1...HubScanner.kMax).contains(options.k) else {
            throw EngineError(.invalidInput, "k must be in 1...\(HubScanner.kMax)")
        }
        guard (1...HubScanner.sampleSizeMax).contains(options.sampleSize) else {
            throw EngineError(.invalidInput, "sample_size must be in 1...\(HubScanner.sampleSizeMax)")
        }
        guard options.threshold.isFinite, options.threshold > 0 else {
            throw EngineError(.invalidInput, "threshold must be a positive number")
        }
        if let budget = options.budget, !(budget > 0 && budget < 1) {
            throw EngineError(.invalidInput, "budget is a fraction in (0, 1), e.g. 0.002 for 0.2 %")
        }
    }
}

/// What a scan that flags documents sets in motion (the runbooks' corpus-poisoning response).
public enum ScanPolicy: String, Sendable, Codable, CaseIterable {
    /// Declare a SEV-1 corpus incident with the scan as evidence, and stop there.
    case alert
    /// Also quarantine the flagged documents, freeze their tenants' partitions, start their
    /// rebuilds, and mark the incident contained.
    case autoContain = "auto-contain"
}

/// What the policy did.
public struct ContainmentOutcome: Sendable, Equatable {
    public let incidentID: String
    public let quarantined: [String]
    public let frozenTenants: [String]
    public let rebuildJobs: [Int64]
}

extension LiveCollections {
    /// Applies `policy` to a scan: nothing when no document reached the threshold; otherwise
    /// a SEV-1 incident with the report as evidence, and with auto-contain the quarantine,
    /// the freeze and the rebuild, each recorded on that incident.
    public func respond(to scan: CollectionScan, in collection: LiveCollection, policy: ScanPolicy,
                        actor: String) async throws(EngineError) -> ContainmentOutcome? {
        let threshold = scan.report.parameters.threshold
        let flagged = zip(scan.report.flagged, zip(scan.flaggedIDs, scan.flaggedTenants)).filter { $0.0.z >= threshold }
        guard !flagged.isEmpty else { return nil }
        let name = collection.configuration.name
        // An alert that finds hubs again while its earlier incident is still open adds the scan
        // to that incident (no second incident, no second snapshot held).
        if policy == .alert, let open = try await openAlert(on: collection, tenant: scan.tenant, actor: actor) {
            try await addScanEvidence(scan, flagged: flagged.map { ($0.1.0, $0.0.z) }, to: open, in: collection, actor: actor)
            return ContainmentOutcome(incidentID: open, quarantined: [], frozenTenants: [], rebuildJobs: [])
        }
        // Snapshot before you mutate: the served state, hubs included, is the incident's evidence.
        // Containment does not wait on a failing snapshot store; the timeline records that it did not.
        var forensic: IncidentService.ForensicSnapshot?
        var forensicFailure: String?
        do {
            forensic = try await forensicSnapshot(of: collection, actor: actor)
        } catch {
            forensicFailure = (error as? EngineError)?.message ?? "\(error)"
        }
        let incidentID = try await write(collection) { [forensic, forensicFailure] connection throws(EngineError) -> String in
            do {
                // The last verified-clean snapshot is the state to roll back to: its root hash goes
                // on the incident (which also keeps retention from retiring it while it is open).
                let lastClean = try SnapshotRecords.lastClean(collectionID: collection.configuration.id, on: connection)
                let (incident, _) = try IncidentService.declare(
                    title: "HubScan flagged \(flagged.count) document(s) in \(name) (z ≥ \(threshold))", severity: .sev1,
                    taxonomyClass: .corpus, reporter: actor, tenant: scan.tenant, collection: name,
                    snapshotRootHash: lastClean?.rootHash, forensic: forensic, forensicFailure: forensicFailure, on: connection)
                let summary = flagged.prefix(20).map { "\($0.1.0) z=\(String(format: "%.1f", $0.0.z))" }.joined(separator: ", ")
                _ = try IncidentRecords.record(incident.id, on: connection) {
                    _ = try $0.record(Evidence(kind: "scan_report", sha256: Self.digest(scan), location: "scan_reports/\(scan.id)",
                                               summary: summary), actor: actor)
                }
                return incident.id
            } catch {
                throw LiveCollection.mapped(error)
            }
        }
        guard policy == .autoContain else {
            return ContainmentOutcome(incidentID: incidentID, quarantined: [], frozenTenants: [], rebuildJobs: [])
        }
        return try await contain(flagged.map { ($0.1.0, $0.1.1, $0.0.z) }, scan: scan, in: collection, incidentID: incidentID,
                                 actor: actor)
    }

    private func openAlert(on collection: LiveCollection, tenant: String?, actor: String) async throws(EngineError) -> String? {
        do {
            return try await pool.withConnection {
                try IncidentRecords.newestOpen(collection: collection.configuration.name, tenant: tenant, reporter: actor,
                                               taxonomyClass: .corpus, on: $0)
            }
        } catch {
            throw LiveCollection.mapped(error)
        }
    }

    private func addScanEvidence(_ scan: CollectionScan, flagged: [(id: String, z: Double)], to incidentID: String,
                                 in collection: LiveCollection, actor: String) async throws(EngineError) {
        let summary = "again: " + flagged.prefix(20).map { "\($0.id) z=\(String(format: "%.1f", $0.z))" }.joined(separator: ", ")
        do {
            _ = try await pool.withConnection { connection in
                try IncidentService.addEvidence(incidentID, Evidence(kind: "scan_report", sha256: Self.digest(scan),
                                                                     location: "scan_reports/\(scan.id)", summary: summary),
                                                actor: actor, on: connection)
            }
        } catch {
            throw LiveCollection.mapped(error)
        }
    }

    private func contain(_ flagged: [(id: String, tenant: String, z: Double)], scan: CollectionScan, in collection: LiveCollection,
                         incidentID: String, actor: String) async throws(EngineError) -> ContainmentOutcome {
        let incident = IncidentReference.existing(incidentID)
        // Per tenant: document ids are unique per tenant, so each is named within its own.
        var quarantined: [String] = []
        for (tenant, members) in Dictionary(grouping: flagged, by: \.tenant).sorted(by: { $0.key < $1.key }) {
            quarantined += try await quarantine(members.map(\.id), in: collection, scope: tenant,
                                                reason: "HubScan scan \(scan.id): z ≥ \(scan.report.parameters.threshold)",
                                                incident: incident, scores: Dictionary(members.map { ($0.id, $0.z) }) { a, _ in a },
                                                actor: actor).changed
        }
        let tenants = Array(Set(flagged.map(\.tenant))).sorted()
        var jobs: [Int64] = []
        for tenant in tenants {
            _ = try await setFlag(.indexFreeze, enabled: true, tenant: tenant, in: collection, incident: incident, actor: actor)
            var options = RebuildOptions()
            options.threshold = scan.report.parameters.threshold
            jobs.append(try await rebuild(collection, tenant: tenant, incident: incident, actor: actor, options: options).job)
        }
        _ = try await write(collection) { connection throws(EngineError) in
            do {
                _ = try IncidentRecords.transition(incidentID, to: .contained, reason: "flagged documents quarantined, "
                                                   + "tenants \(tenants.joined(separator: ", ")) frozen and rebuilding", actor: actor,
                                                   on: connection)
            } catch {
                throw LiveCollection.mapped(error)
            }
        }
        return ContainmentOutcome(incidentID: incidentID, quarantined: quarantined, frozenTenants: tenants, rebuildJobs: jobs)
    }

    /// The SHA-256 of the report's JSON as the engine wrote it (PostgreSQL keeps it as jsonb, so
    /// `report::text` is a normalised form, not these bytes): what the evidence on the incident pins.
    static func digest(_ scan: CollectionScan) -> String {
        SHA256.hash(data: Data(scan.reportJSON.utf8)).hexEncoded
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
