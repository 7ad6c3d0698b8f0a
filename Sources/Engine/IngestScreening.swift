import Foundation
import HubScan
import Store
import VectorMath

/// A new document the ingest screen scored at or above its threshold.
public struct ScreenedDocument: Sendable, Equatable {
    public let externalID: String
    public let tenant: String
    /// How many of the last scan's sampled queries it would enter the top-k of.
    public let wouldEnterTopK: Int
    public let z: Double
    public let threshold: Double
    /// The scan whose sample and hit distribution it was scored against.
    public let scanID: Int64
}

/// What an ingest did: the rows stored, and what the screen found and held.
public struct IngestOutcome: Sendable {
    public let rowIDs: [Int64]
    /// Documents at or above the screen's threshold (empty when no scan has run yet).
    public let screened: [ScreenedDocument]
    /// The screened documents quarantined on arrival (auto-contain scheduled): never served.
    public let held: [String]
    public let incidentID: String?
}

/// The ingest screens of one collection: per tenant (and "" for the whole collection) the
/// screen built by the newest scan of that scope, and whether screened documents are held on
/// arrival (an enabled auto-contain schedule).
final class ScreenBook: @unchecked Sendable {
    struct Entry {
        let screen: IngestScreen
        let threshold: Double
        let scanID: Int64
    }

    private let lock = Mutex()
    private var byScope: [String: Entry] = [:]
    private var hold = false

    func update(scope: String?, screen: IngestScreen, threshold: Double, scanID: Int64) {
        lock.locked { byScope[scope ?? ""] = Entry(screen: screen, threshold: threshold, scanID: scanID) }
    }

    /// The tenant's own screen, else the whole collection's.
    func entry(tenant: String) -> Entry? { lock.locked { byScope[tenant] ?? byScope[""] } }

    var holdOnArrival: Bool {
        get { lock.locked { hold } }
        set { lock.locked { hold = newValue } }
    }
}

extension LiveCollection {
    /// Scores a validated batch against each tenant's screen; returns the documents at or
    /// above the threshold, by batch index. A tenant whose documents cannot be scored fails
    /// closed while screened documents are held on arrival (an auto-contain schedule): the
    /// batch is refused (`index_failed`, retry), never stored unscreened; without holds the
    /// screen only reports, and such a tenant's documents are reported as not screened.
    func screen(_ batch: [NewDocument]) throws(EngineError) -> [Int: ScreenedDocument] {
        var found: [Int: ScreenedDocument] = [:]
        for (tenant, members) in Dictionary(grouping: batch.indices, by: { batch[$0].tenant }) {
            guard let entry = screens.entry(tenant: tenant) else { continue }
            let verdicts: [IngestScreen.Verdict]
            do {
                try EngineFaults.check(.ingestScreen)
                var matrix = try Matrix(rows: members.count, dimension: configuration.dimension,
                                        storage: members.flatMap { batch[$0].embedding })
                if configuration.metric == .cosine { try matrix.normalizeRows() }
                verdicts = try entry.screen.screen(matrix)
            } catch {
                guard !screens.holdOnArrival else {
                    throw EngineError(.indexFailed, """
                        the ingest screen could not score tenant \(tenant)'s documents (\(error)); with auto-contain on, \
                        the batch is refused rather than stored unscreened: nothing was written, retry it
                        """)
                }
                continue
            }
            for verdict in verdicts where verdict.z >= entry.threshold {
                let index = members[verdict.row]
                found[index] = ScreenedDocument(externalID: batch[index].externalID, tenant: tenant,
                                                wouldEnterTopK: verdict.wouldEnterTopK, z: verdict.z,
                                                threshold: entry.threshold, scanID: entry.scanID)
            }
        }
        return found
    }

    /// Records the quarantine of documents the screen held on arrival (they are indexed
    /// already withheld when the ingest is applied): evidence with their screen z,
    /// the incident (the collection's open one, or a SEV-1 declared for it), one transaction.
    /// The actor the screen's holds are recorded under.
    static let screenActor = "ingest-screen"

    func recordHeld(_ held: [ScreenedDocument], entries: [DocumentEntry], on connection: Connection) throws(EngineError) -> String {
        let rowIDs = entries.map(\.rowID)
        let title = "Ingest screen held \(held.count) document(s) in \(configuration.name)"
        let incidentID = try IncidentReference.openOrDeclare(title: title, severity: .sev1)
            .resolve(collection: configuration.name, tenant: nil, actor: Self.screenActor, on: connection)
        let evidence = try captureEvidence(entries, scores: Dictionary(held.map { ($0.externalID, $0.z) }) { a, _ in a },
                                           on: connection)
        do {
            _ = try QuarantineRecords.quarantine(
                rowIDs, collectionID: configuration.id, incidentID: incidentID,
                reason: "ingest screen: would enter the top-k of \(held.map(\.wouldEnterTopK).max() ?? 0) sampled queries; z ≥ \(held[0].threshold) (scan \(held[0].scanID))",
                evidence: evidence.perDocument, evidenceDigest: evidence.digest, actor: Self.screenActor, on: connection)
        } catch {
            throw Self.mapped(error)
        }
        return incidentID
    }
}
