/// What a timeline event records. Stored and hashed as its slug (`rebuild_started`), so an
/// event written before a kind was named here still decodes (as `unlisted`) and still verifies.
public enum EventKind: Sendable, Hashable, Codable, CustomStringConvertible {
    case declared, transitioned, commanderAssigned
    case decision, evidence, actionAdded, actionClosed, postmortem
    case quarantined, released, flagChanged, blastRadius, rollback
    case rebuildStarted, rebuildSucceeded, rebuildFailed, rebuildCancelled
    /// A slug this build does not name: read back and shown as written.
    case unlisted(String)

    public static let named: [EventKind] = [
        .declared, .transitioned, .commanderAssigned, .decision, .evidence, .actionAdded, .actionClosed, .postmortem,
        .quarantined, .released, .flagChanged, .blastRadius, .rollback,
        .rebuildStarted, .rebuildSucceeded, .rebuildFailed, .rebuildCancelled,
    ]

    /// The events that end a rebuild job.
    public static let rebuildEnds: Set<EventKind> = [.rebuildSucceeded, .rebuildFailed, .rebuildCancelled]

    public init(slug: String) {
        self = Self.named.first { $0.slug == slug } ?? .unlisted(slug)
    }

    /// The end of a rebuild job in `state` (`succeeded`, `failed`, `cancelled`).
    public static func rebuildEnded(_ state: String) -> EventKind { EventKind(slug: "rebuild_" + state) }

    public var slug: String {
        switch self {
        case .declared: "declared"
        case .transitioned: "transitioned"
        case .commanderAssigned: "commander_assigned"
        case .decision: "decision"
        case .evidence: "evidence"
        case .actionAdded: "action_added"
        case .actionClosed: "action_closed"
        case .postmortem: "postmortem"
        case .quarantined: "quarantined"
        case .released: "released"
        case .flagChanged: "flag_changed"
        case .blastRadius: "blast_radius"
        case .rollback: "rollback"
        case .rebuildStarted: "rebuild_started"
        case .rebuildSucceeded: "rebuild_succeeded"
        case .rebuildFailed: "rebuild_failed"
        case .rebuildCancelled: "rebuild_cancelled"
        case .unlisted(let slug): slug
        }
    }

    public var description: String { slug }

    public init(from decoder: any Decoder) throws {
        self.init(slug: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(slug)
    }
}
