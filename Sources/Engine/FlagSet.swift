/// The feature flags of one collection, as the engine applies them. Pure value; the records
/// behind it live in PostgreSQL.
public struct FlagSet: Sendable, Equatable {
    /// FF_INDEX_FREEZE for the whole collection.
    public private(set) var collectionFrozen = false
    /// FF_INDEX_FREEZE for single tenants.
    public private(set) var frozenTenants: Set<String> = []
    /// FF_TENANT_BLOCK: these tenants' requests are refused.
    public private(set) var blockedTenants: Set<String> = []

    public init() {}

    /// Applies one flag change; `tenant` nil or empty means the whole collection.
    /// FF_TENANT_BLOCK needs a tenant (the caller validates that).
    public mutating func set(_ flag: FeatureFlag, enabled: Bool, tenant: String?) {
        let scope = tenant.flatMap { $0.isEmpty ? nil : $0 }
        switch (flag, scope) {
        case (.indexFreeze, nil): collectionFrozen = enabled
        case (.indexFreeze, let tenant?): if enabled { frozenTenants.insert(tenant) } else { frozenTenants.remove(tenant) }
        case (.tenantBlock, let tenant?): if enabled { blockedTenants.insert(tenant) } else { blockedTenants.remove(tenant) }
        case (.tenantBlock, nil): preconditionFailure("FF_TENANT_BLOCK names a tenant; the caller validates it")
        }
    }

    public func isFrozen(tenant: String) -> Bool { collectionFrozen || frozenTenants.contains(tenant) }
    public func isBlocked(tenant: String) -> Bool { blockedTenants.contains(tenant) }

    /// Every flag that is on, as (name, tenant) pairs, for status output.
    public var enabled: [(flag: FeatureFlag, tenant: String?)] {
        var result: [(FeatureFlag, String?)] = collectionFrozen ? [(.indexFreeze, nil)] : []
        result += frozenTenants.sorted().map { (.indexFreeze, $0) }
        result += blockedTenants.sorted().map { (.tenantBlock, $0) }
        return result
    }
}
