/// Where a snapshot record stands. Pure: the Store persists it, this decides what may change.
public enum SnapshotStatus: String, Codable, Sendable, CaseIterable {
    /// Segments are being written; nothing may serve it.
    case building
    /// Published and verified on disk; may serve.
    case published
    /// Published, and a HubScan report with every z below the threshold cleared it: a
    /// rollback target ("last-clean").
    case verifiedClean = "verified_clean"
    /// Kept for the record only; never served again.
    case retired

    public var allowedNext: Set<SnapshotStatus> {
        switch self {
        case .building: return [.published, .retired]
        case .published: return [.verifiedClean, .retired]
        case .verifiedClean: return [.retired]
        case .retired: return []
        }
    }

    /// Retention may retire a snapshot only if no open incident refers to a verified-clean
    /// one (the state an incident may need to roll back to), and never while it is an open
    /// incident's forensic evidence (the served state when the incident was declared).
    public static func mayRetire(_ status: SnapshotStatus, referencedByOpenIncident: Bool,
                                 heldAsForensicEvidence: Bool = false) -> Bool {
        status.allowedNext.contains(.retired) && !(status == .verifiedClean && referencedByOpenIncident) && !heldAsForensicEvidence
    }
}
