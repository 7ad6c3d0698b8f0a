import Foundation
import Incidents
import Instrumentation
import Store

/// Who was served the documents an incident quarantined: per tenant, how many logged
/// requests, first and last time, and the latest trace ids. The runbooks' "identify blast
/// radius" step, answered from the retrieval log.
public struct BlastRadius: Sendable, Codable, Equatable {
    public let incidentID: String
    /// Documents quarantined under the incident.
    public let documents: Int
    /// Logged requests that were served at least one of them.
    public let requests: Int
    public let tenants: [RetrievalLogRecords.Exposure]
}

extension LiveCollections {
    /// Trace ids per tenant kept in the timeline's `blast_radius` event.
    static let tracesOnTimeline = 10
    /// Tenants listed in that event (those with the most requests).
    static let tenantsOnTimeline = 100

    /// The blast radius of an incident's quarantine, after writing out the buffered log (a log
    /// that cannot be written fails the call: an incomplete blast radius would mislead).
    public func blastRadius(incidentID: String) async throws(EngineError) -> BlastRadius {
        try await retrievalLog.flush()
        do {
            let (documents, exposures) = try await pool.withConnection {
                try RetrievalLogRecords.exposure(incidentID: incidentID, on: $0)
            }
            return BlastRadius(incidentID: incidentID, documents: documents,
                               requests: exposures.reduce(0) { $0 + $1.requests }, tenants: exposures)
        } catch {
            throw LiveCollection.mapped(error)
        }
    }

    /// Records the incident's blast radius on its timeline (event `blast_radius`), off the
    /// quarantine's response path. Best effort: a failure is recorded nowhere else, and the
    /// route `GET /v1/incidents/{id}/blast-radius` recomputes it on demand.
    func recordBlastRadius(incidentID: String, actor: String) {
        // A span of the quarantine's trace; the event carries that trace.
        let parent = InstrumentationContext.current
        let trace = TraceContext.current
        Task.detached { [self] in
            await Spans.run("firebreak.blast_radius", parent: parent, fallback: trace) {
                await appendBlastRadius(incidentID: incidentID, actor: actor)
                await declareCrossTenantExposure(of: incidentID)
            }
        }
    }

    private func appendBlastRadius(incidentID: String, actor: String) async {
        guard let radius = try? await blastRadius(incidentID: incidentID) else { return }
        // The timeline keeps the newest few traces per tenant; the route lists up to `tracesMax`.
        // and, past `tenantsOnTimeline`, only the tenants with the most requests (the event's
        // payload has a size limit; `GET …/blast-radius` lists them all).
        let sampled = radius.tenants.sorted { ($0.requests, $1.tenant) > ($1.requests, $0.tenant) }.prefix(Self.tenantsOnTimeline).map {
            BlastRadiusMeasured.TenantExposure(tenant: $0.tenant, requests: $0.requests, first: $0.first, last: $0.last,
                                               traceIDs: Array($0.traceIDs.prefix(Self.tracesOnTimeline)))
        }
        // Appended after the timeline's last event (not a whole-timeline load): an incident can
        // collect thousands of quarantines, each followed by its blast radius.
        _ = try? await pool.withConnection { connection in
            try connection.transaction { c in
                try IncidentRecords.appendEvent(BlastRadiusMeasured(documents: radius.documents, requests: radius.requests,
                                                                    tenants: radius.tenants.count, byTenant: sampled),
                                                to: incidentID, actor: actor, on: c)
            }
        }
    }

    /// A tenant served another tenant's quarantined document is a privacy failure (the
    /// runbooks' `privacy` class: cross-tenant hits), whatever the incident it was found under:
    /// declared SEV-0 on that collection (with its forensic snapshot), unless this check's own
    /// privacy incident on the collection is still open, and named by a decision on the
    /// incident it was found under. Partition isolation should make this impossible; this is
    /// the check that it held. A check that cannot run is reported, never passed silently.
    func declareCrossTenantExposure(of incidentID: String) async {
        let servings: [RetrievalLogRecords.CrossTenantServing]
        do {
            servings = try await pool.withConnection { try RetrievalLogRecords.crossTenantServings(incidentID: incidentID, on: $0) }
        } catch {
            return report("incident \(incidentID): the cross-tenant check of its blast radius could not run (\(error))")
        }
        guard let first = servings.first else { return }
        let requests = servings.reduce(0) { $0 + $1.requests }
        let pairs = servings.prefix(Self.crossTenantPairsNamedMax).map { "\($0.requester) served \($0.owner)'s" }.joined(separator: ", ")
        let title = "Cross-tenant exposure in \(first.collection): \(pairs) quarantined documents (\(requests) requests, found under \(incidentID))"
        do {
            let open = try await pool.withConnection {
                try IncidentRecords.newestOpen(collection: first.collection, tenant: nil, reporter: Self.blastRadiusReporter,
                                               taxonomyClass: .privacy, on: $0)
            }
            guard open == nil else { return }  // the exposure is already an open incident
            let (declared, _) = try await declareIncident(
                title: String(title.prefix(Incident.titleCharactersMax)), severity: .sev0, taxonomyClass: .privacy,
                reporter: Self.blastRadiusReporter, tenant: nil, collection: first.collection,
                traceparent: TraceContext.current?.traceparent)
            _ = try await pool.withConnection {
                try IncidentService.decide(incidentID, Decision(
                    who: Self.blastRadiusReporter, what: "declared \(declared.id) (privacy: cross-tenant exposure)",
                    why: "the blast radius found \(requests) requests of one tenant served another tenant's quarantined documents"), on: $0)
            }
        } catch {
            report("incident \(incidentID): a cross-tenant exposure was found but its privacy incident could not be declared (\(error))")
        }
    }

    static let blastRadiusReporter = "blast-radius"
    static let crossTenantPairsNamedMax = 5
}
