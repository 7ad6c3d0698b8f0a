import Store

extension LiveCollection {
    /// Sets a flag for the collection or one tenant, on an incident. Turning a restriction on
    /// takes effect in memory before it is recorded (and is undone if recording fails);
    /// lifting one takes effect only after it is recorded. Either way the service fails closed.
    func setFlag(_ flag: FeatureFlag, enabled: Bool, tenant: String?, incident: IncidentReference, actor: String,
                 on connection: Connection) throws(EngineError) -> String {
        let scope = tenant.flatMap { $0.isEmpty ? nil : $0 }
        if flag == .tenantBlock && scope == nil {
            throw EngineError(.invalidInput, "FF_TENANT_BLOCK needs \"tenant\"")
        }
        if let scope, !CollectionConfiguration.isValidName(scope) {
            throw EngineError(.invalidInput, "tenant must be 1-63 letters, digits, '_', '.' or '-'")
        }
        if flag == .indexFreeze && !enabled {
            try requireCleanScan(tenant: scope ?? "", on: connection)
        }
        let incidentID = try incident.resolve(collection: configuration.name, tenant: scope, actor: actor, on: connection)
        let before = state.reading { flags }
        if enabled { state.writing { flags.set(flag, enabled: true, tenant: scope) } }
        do {
            try FlagRecords.set(flag.rawValue, tenant: scope ?? "", enabled: enabled, collectionID: configuration.id,
                                incidentID: incidentID, actor: actor, on: connection)
        } catch {
            if enabled { state.writing { flags = before } }
            throw Self.mapped(error)
        }
        if !enabled { state.writing { flags.set(flag, enabled: false, tenant: scope) } }
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
