import Store

extension LiveCollection {
    /// Checks a flag change before anything happens; returns its scope (nil: the collection).
    func validateFlag(_ flag: FeatureFlag, tenant: String?) throws(EngineError) -> String? {
        let scope = tenant.flatMap { $0.isEmpty ? nil : $0 }
        if flag == .tenantBlock && scope == nil {
            throw EngineError(.invalidInput, "FF_TENANT_BLOCK needs \"tenant\"")
        }
        if let scope, !CollectionConfiguration.isValidName(scope) {
            throw EngineError(.invalidInput, "tenant must be 1-63 letters, digits, '_', '.' or '-'")
        }
        return scope
    }

    /// Turning a restriction on takes effect in memory before its transaction starts (fail
    /// closed); returns the undo for when the transaction fails. Lifting one waits for the
    /// change to be applied after the commit. Caller holds `writers`.
    func restrictFirst(_ flag: FeatureFlag, enabled: Bool, scope: String?) -> (@Sendable () -> Void)? {
        guard enabled else { return nil }
        let before = state.reading { flags }
        mutate { flags.set(flag, enabled: true, tenant: scope) }
        return { [self] in mutate { flags = before } }
    }

    /// Records a flag change on an incident and appends it, in the writer's transaction.
    func recordFlag(_ flag: FeatureFlag, enabled: Bool, scope: String?, incident: IncidentReference, actor: String,
                    on connection: Connection) throws(EngineError) -> String {
        if flag == .indexFreeze && !enabled {
            try requireCleanScan(tenant: scope ?? "", on: connection)
        }
        let incidentID = try incident.resolve(collection: configuration.name, tenant: scope, actor: actor, on: connection)
        do {
            try FlagRecords.set(flag.rawValue, tenant: scope ?? "", enabled: enabled, collectionID: configuration.id,
                                incidentID: incidentID, actor: actor, on: connection)
        } catch {
            throw Self.mapped(error)
        }
        try append(.flagSet(flag: flag.rawValue, tenant: scope ?? "", enabled: enabled), on: connection)
        return incidentID
    }

    /// Lifting a freeze needs evidence that the index is clean now: a scan stored after the
    /// freeze was set, covering the frozen scope, with every z below its threshold.
    private func requireCleanScan(tenant: String, on connection: Connection) throws(EngineError) {
        let clean: Bool
        do {
            clean = try ScanReportRecords.cleanScanSinceFreeze(collectionID: configuration.id, tenant: tenant, on: connection)
        } catch {
            throw Self.mapped(error)
        }
        guard clean else {
            throw EngineError(.scanRequired, "lifting FF_INDEX_FREEZE needs a scan of \(tenant.isEmpty ? "the collection" : "tenant \(tenant)") newer than the freeze with every z below its threshold (POST /v1/collections/\(configuration.name)/scans)")
        }
    }
}
