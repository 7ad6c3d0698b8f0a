import Foundation
import Incidents
import Store

extension LiveCollections {
    /// Why an incident may not be marked resolved yet, or nil: the status follows reality.
    /// Its collection must not be serving degraded answers (a partition still rebuilding), and
    /// every document the collection's newest scan flagged at or above its threshold must be
    /// quarantined (or deleted).
    public func resolutionBlocker(for incident: Incident) async throws(EngineError) -> String? {
        guard let name = incident.collection, let collection = try? named(name) else { return nil }
        let rebuilding = collection.rebuildingTenants()
        if !rebuilding.isEmpty {
            return "collection \(name) still serves degraded answers: tenant(s) \(rebuilding.joined(separator: ", ")) rebuilding"
        }
        let stored: ScanReportRecords.Stored?
        do {
            stored = try await pool.withConnection { try ScanReportRecords.latest(collectionID: collection.configuration.id, on: $0) }
        } catch {
            throw LiveCollection.mapped(error)
        }
        guard let stored else { return nil }
        let flagged = try stored.labelled().idsAtThreshold
        let served = flagged.filter { collection.locate(externalID: $0, scope: nil) != nil }
        guard served.isEmpty else {
            return "scan \(stored.id) flagged \(served.count) document(s) of \(name) that are still served: \(served.prefix(10).joined(separator: ", "))"
        }
        return nil
    }
}

extension LiveCollection {
    /// Tenants whose partition is being rebuilt.
    func rebuildingTenants() -> [String] {
        state.reading { partitions.values.filter(\.rebuilding).map(\.tenant).sorted() }
    }
}
