import Engine
import FirebreakAPI
import Foundation
import HubScan
import Incidents
import Store

// The contract's bodies built from the engine's and the store's values: the one place a
// domain value becomes a wire value.

extension IncidentBody {
    init(_ incident: Incident, events: Int) {
        self.init(id: incident.id, title: incident.title, severity: incident.severity.rawValue,
                  taxonomyClass: incident.taxonomyClass.rawValue, status: incident.status.rawValue, reporter: incident.reporter,
                  commander: incident.commander, tenant: incident.tenant, collection: incident.collection,
                  traceparent: incident.traceparent, snapshotRootHash: incident.snapshotRootHash, contained: incident.contained,
                  detectedAt: incident.detectedAt, events: events)
    }
}

extension EventBody {
    init(_ event: IncidentEvent) {
        self.init(sequence: event.sequence, kind: event.kind, actor: event.actor, at: event.at, payload: event.payload,
                  payloadVersion: event.payloadVersion, previousHash: event.previousHash, hash: event.hash)
    }
}

extension ExposureBody {
    init(_ exposure: RetrievalLogRecords.Exposure) {
        self.init(tenant: exposure.tenant, requests: exposure.requests, first: exposure.first, last: exposure.last,
                  traceIDs: exposure.traceIDs)
    }
}

extension GoldenSummaryBody {
    init(_ set: GoldenSet) {
        let byTenant = Dictionary(grouping: set.queries, by: \.tenant).mapValues { group in
            group.reduce(0) { $0 + ($1.baselineRR ?? 0) } / Double(group.count)
        }
        self.init(queries: set.queries.count, baselineMRR: set.baselineMRR, byTenant: byTenant,
                  setAt: set.setAt.isEmpty ? nil : set.setAt)
    }
}

extension ScanSettings {
    init(_ body: ScanSettingsBody) {
        self.init(sample: body.sample, sampleSize: body.sampleSize, k: body.k, threshold: body.threshold, budget: body.budget,
                  seed: body.seed)
    }
}

extension ScanResultBody {
    /// A scan as the API shows it: the highest z, its threshold, the flagged documents by id
    /// and the full report.
    init(id: Int64, tenant: String?, report labelled: LabelledScanReport, outcome: ContainmentOutcome? = nil) {
        let report = labelled.report
        let flagged = report.flagged.enumerated().map { index, entry in
            FlaggedDocumentBody(id: labelled.documentIDs[index], tenant: labelled.documentTenants[index], z: entry.z,
                                score: entry.score, detectors: entry.detectors, explanation: entry.explanation)
        }
        self.init(id: id, tenant: tenant, maxZ: report.distribution.maxZ, threshold: report.parameters.threshold,
                  flagged: flagged, report: labelled,
                  containment: outcome.map {
                      ContainmentBody(incidentID: $0.incidentID, quarantined: $0.quarantined, frozenTenants: $0.frozenTenants,
                                      rebuildJobs: $0.rebuildJobs)
                  })
    }
}
