import Foundation
import Incidents

/// What a drill found, as `--json` prints it and as a person reads it.
public struct DrillReport: Encodable, Sendable {
    struct MRR: Encodable {
        let before: Double?
        let during: Double?
        let after: Double?
    }

    public let collection: String
    public let hubsPlanted: Int
    public internal(set) var hubsDetected = 0
    public internal(set) var cleanDocumentsQuarantined = 0
    public internal(set) var containmentSeconds: Double?
    public internal(set) var quarantinedReturned = 0
    public internal(set) var failedQueries = 0
    public internal(set) var queriesAnswered = 0
    public internal(set) var degradedAnswers = 0
    public internal(set) var frozen = false
    public internal(set) var rebuildSeconds: Double?
    public internal(set) var rollbackSeconds: Double?
    public internal(set) var rollbackClientSeconds: Double?
    public internal(set) var retiredByRollback = 0
    /// What the rebuild's validation found (self-recall, scan, golden-query MRR), from its event.
    public internal(set) var rebuildValidation: [String: PayloadValue] = [:]
    /// The extra hub planted through ingest with auto-contain on: held on arrival (1) or not (0).
    public internal(set) var hubsHeldAtIngest = 0
    public internal(set) var mrrBefore: Double?
    public internal(set) var mrrDuring: Double?
    public internal(set) var mrrAfter: Double?
    public internal(set) var cleanMaxZ: Double?
    public internal(set) var threshold: Double?
    public internal(set) var freezeLifted = false
    public internal(set) var incidentID: String?
    public internal(set) var incidentStatus: String?
    public internal(set) var postmortemPath: String?
    public internal(set) var notes: [String] = []
    // Working state, not reported.
    var quarantinedIDs: [String] = []
    var containedAt: Date?

    /// MRR@10 after the rebuild may fall this far below the baseline and still count as back.
    static let mrrTolerance = 0.02

    init(collection: String, hubsPlanted: Int) {
        self.collection = collection
        self.hubsPlanted = hubsPlanted
    }

    /// The checks the game day must pass, by name.
    public var checks: [(name: String, passed: Bool)] {
        [("every planted hub detected", hubsDetected == hubsPlanted),
         ("no quarantined document returned after containment", quarantinedReturned == 0),
         ("no failed query", failedQueries == 0),
         ("index frozen at containment", frozen),
         ("MRR@10 back at baseline after the rebuild",
          (mrrAfter ?? 0) >= (mrrBefore ?? 0) - Self.mrrTolerance),
         ("rollback to last-clean done", rollbackSeconds != nil),
         ("a hub ingested under auto-contain held on arrival", hubsHeldAtIngest == 1),
         ("incident resolved", incidentStatus == "resolved")]
    }

    public var failedChecks: [String] { checks.filter { !$0.passed }.map(\.name) }

    enum CodingKeys: String, CodingKey {
        case collection, hubsPlanted, hubsDetected, cleanDocumentsQuarantined, containmentSeconds, quarantinedReturned
        case failedQueries, queriesAnswered, degradedAnswers, frozen, rebuildSeconds, rollbackSeconds
        case rollbackClientSeconds, retiredByRollback, rebuildValidation, hubsHeldAtIngest, mrrAt10 = "mrr_at_10", cleanMaxZ, threshold, freezeLifted, incidentID = "incidentId"
        case incidentStatus, postmortemPath, notes, failedChecks
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(collection, forKey: .collection)
        try c.encode(hubsPlanted, forKey: .hubsPlanted)
        try c.encode(hubsDetected, forKey: .hubsDetected)
        try c.encode(cleanDocumentsQuarantined, forKey: .cleanDocumentsQuarantined)
        try c.encode(containmentSeconds, forKey: .containmentSeconds)
        try c.encode(quarantinedReturned, forKey: .quarantinedReturned)
        try c.encode(failedQueries, forKey: .failedQueries)
        try c.encode(queriesAnswered, forKey: .queriesAnswered)
        try c.encode(degradedAnswers, forKey: .degradedAnswers)
        try c.encode(frozen, forKey: .frozen)
        try c.encode(rebuildSeconds, forKey: .rebuildSeconds)
        try c.encode(rollbackSeconds, forKey: .rollbackSeconds)
        try c.encode(rollbackClientSeconds, forKey: .rollbackClientSeconds)
        try c.encode(retiredByRollback, forKey: .retiredByRollback)
        try c.encode(rebuildValidation, forKey: .rebuildValidation)
        try c.encode(hubsHeldAtIngest, forKey: .hubsHeldAtIngest)
        try c.encode(MRR(before: mrrBefore, during: mrrDuring, after: mrrAfter), forKey: .mrrAt10)
        try c.encode(cleanMaxZ, forKey: .cleanMaxZ)
        try c.encode(threshold, forKey: .threshold)
        try c.encode(freezeLifted, forKey: .freezeLifted)
        try c.encode(incidentID, forKey: .incidentID)
        try c.encode(incidentStatus, forKey: .incidentStatus)
        try c.encode(postmortemPath, forKey: .postmortemPath)
        try c.encode(notes, forKey: .notes)
        try c.encode(failedChecks, forKey: .failedChecks)
    }

    /// The report as a person reads it.
    public var readable: String {
        var lines = ["Corpus-poisoning drill on \(collection)", ""]
        lines.append("  hubs detected            \(hubsDetected) of \(hubsPlanted) (clean documents quarantined: \(cleanDocumentsQuarantined))")
        lines.append("  threshold                \(format(threshold)) (clean collection's highest z: \(format(cleanMaxZ)))")
        lines.append("  containment              \(format(containmentSeconds)) s from the scan's incident to the last quarantine")
        lines.append("  quarantined returned     \(quarantinedReturned) of \(queriesAnswered) answers")
        lines.append("  failed queries           \(failedQueries)")
        lines.append("  rebuild                  \(format(rebuildSeconds)) s, \(degradedAnswers) answers from the BM25 fallback")
        lines.append("  rollback to last-clean   \(format(rollbackSeconds)) s (client: \(format(rollbackClientSeconds)) s), \(retiredByRollback) later documents retired")
        lines.append("  rebuild validation       \(rebuildValidation.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        lines.append("  held at ingest           \(hubsHeldAtIngest) of 1 hub planted through ingest under auto-contain")
        lines.append("  MRR@10                   before \(format(mrrBefore)), during \(format(mrrDuring)), after \(format(mrrAfter))")
        lines.append("  incident                 \(incidentID ?? "–") (\(incidentStatus ?? "–")); postmortem: \(postmortemPath ?? "–")")
        lines.append("")
        for check in checks { lines.append("  \(check.passed ? "✓" : "✗") \(check.name)") }
        for note in notes { lines.append("  note: \(note)") }
        return lines.joined(separator: "\n")
    }
}
