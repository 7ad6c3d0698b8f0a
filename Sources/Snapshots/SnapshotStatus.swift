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
    /// one: that is the state an incident may need to roll back to.
    public static func mayRetire(_ status: SnapshotStatus, referencedByOpenIncident: Bool) -> Bool {
        status.allowedNext.contains(.retired) && !(status == .verifiedClean && referencedByOpenIncident)
    }
}
