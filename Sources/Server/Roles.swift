/// The roles a token can carry, weakest first.
public enum Role: String, Sendable, Codable, CaseIterable {
    case reader
    case retrievalOwner = "retrieval_owner"
    case incidentCommander = "incident_commander"
    case admin
}

/// What a request wants to do. Each route names one; `Role.may` decides. Pure: tested
/// without a server.
public enum Permission: String, Sendable, CaseIterable {
    /// Search, fetch a document, read a collection's status.
    case read
    /// Create collections, ingest and delete documents.
    case write
    /// Quarantine documents, set a freeze, declare incidents and record on them.
    case contain
    /// Release quarantine, block or unblock a tenant, lift a freeze, move an incident's status.
    case command
    /// Read quarantine lists and incidents.
    case inspect
    /// Create tokens.
    case administer
}

extension Role {
    public func may(_ permission: Permission) -> Bool {
        switch permission {
        case .read: return true
        case .write: return self == .retrievalOwner || self == .admin
        case .contain, .inspect: return self != .reader
        case .command: return self == .incidentCommander || self == .admin
        case .administer: return self == .admin
        }
    }
}

/// Who is calling: the token's role and tenant scope.
public struct Caller: Sendable, Equatable {
    public let tokenID: Int64
    public let tokenDigest: String
    public let role: Role
    /// When set, the caller may only name this tenant.
    public let tenant: String?

    /// How the caller appears on incident timelines and quarantine entries.
    public var actor: String { "token:\(tokenID)(\(role.rawValue)\(tenant.map { ",tenant=\($0)" } ?? ""))" }

    /// The tenant a request acts for: the named one, which a scoped token may not change.
    public func tenant(requested: String?) throws(Problem) -> String? {
        guard let scope = tenant else { return requested }
        if let requested, requested != scope {
            throw Problem(.forbidden, .tenantForbidden, "this token is scoped to tenant \(scope); it cannot act for \(requested)")
        }
        return scope
    }

    public func require(_ permission: Permission) throws(Problem) {
        guard role.may(permission) else {
            throw Problem(.forbidden, .forbidden, "role \(role.rawValue) may not \(permission.rawValue)")
        }
    }
}
