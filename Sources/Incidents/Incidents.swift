// Incidents — the one incident model every quarantine and rollback is tied to.
//
// Owns: severity (SEV-0…SEV-4), taxonomy class, the status lifecycle as a pure state
// machine, the append-only hash-chained timeline and its verification, and the signed
// export bundle an auditor can check offline.
//
// Never: does I/O (Store persists incidents and events; the CLI and Server present them);
// rewrites or deletes a timeline event; allows a status change the lifecycle forbids.
//
// Invariants:
// - Event n stores event n−1's hash (event 1 stores `Timeline.genesisHash`) and the
//   SHA-256 of its own canonical JSON (sorted keys, no whitespace, `hash` left out).
// - Sequence numbers are 1, 2, 3, … without gaps.
// - An incident's status only moves along `IncidentStatus.allowedNext`.

@_exported import Diagnostics

/// The one error type of Incidents.
public typealias IncidentError = CodedError<IncidentErrorCode>

public enum IncidentErrorCode: String, ErrorCode, CaseIterable {
    case invalidInput = "invalid_input"
    case transitionNotAllowed = "transition_not_allowed"
    case actionNotVerified = "action_not_verified"
    case signatureInvalid = "signature_invalid"
}

/// How bad it is, as the runbooks grade it.
public enum Severity: String, Codable, Sendable, CaseIterable, Comparable {
    case sev0 = "SEV-0", sev1 = "SEV-1", sev2 = "SEV-2", sev3 = "SEV-3", sev4 = "SEV-4"

    public var meaning: String {
        switch self {
        case .sev0: return "irreversible harm or cross-tenant exposure"
        case .sev1: return "active harm to a tenant (a corpus-poisoning hub is SEV-1)"
        case .sev2: return "contained semantic failure in one index partition"
        case .sev3: return "measurable degradation"
        case .sev4: return "internal anomaly"
        }
    }

    /// SEV-0 sorts first: the most severe is the "smallest".
    public static func < (a: Severity, b: Severity) -> Bool { a.rawValue < b.rawValue }
}

/// Where an incident sits in its lifecycle.
public enum IncidentStatus: String, Codable, Sendable, CaseIterable {
    case declared, contained, mitigated, resolved, closed

    /// The only moves the lifecycle allows: forward one step at a time, except that a
    /// declared incident may be mitigated at once when containment was not needed, and a
    /// resolved incident may fall back to mitigated when its fix does not hold.
    public var allowedNext: Set<IncidentStatus> {
        switch self {
        case .declared: return [.contained, .mitigated]
        case .contained: return [.mitigated]
        case .mitigated: return [.resolved]
        case .resolved: return [.closed, .mitigated]
        case .closed: return []
        }
    }

    public var isOpen: Bool { self != .closed }
}
