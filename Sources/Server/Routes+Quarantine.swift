import Dispatch
import Engine
import FirebreakAPI
import Hummingbird
import Incidents
import Store

extension API {
    func addQuarantineRoutes(to router: Router<APIContext>) {
        router.post("/v1/collections/:name/quarantine") { request, context in
            let arrived = DispatchTime.now().uptimeNanoseconds
            let name = try context.parameters.require("name")
            return try await mutation(request, context, permission: .contain) { buffer, caller in
                let collection = try collections.named(name)
                let body = try decode(QuarantineBody.self, from: buffer)
                try requireWithinLimits(body)
                let scope = try caller.tenant(requested: body.tenant)
                let metrics = self.metrics
                let outcome = try await collections.quarantine(
                    body.ids, in: collection, scope: scope, reason: body.reason,
                    incident: try await incidentReference(body.incidentID, otherwise: .declare(title: "Quarantine in \(name): \(body.reason)", severity: .sev2), caller: caller),
                    scores: body.scores ?? [:], actor: caller.actor,
                    activated: { metrics.quarantineActivated(nanoseconds: DispatchTime.now().uptimeNanoseconds - arrived) })
                return try reply(QuarantineResultBody(incidentID: outcome.incidentID, quarantined: outcome.changed,
                                                      alreadyQuarantined: outcome.unchanged))
            }
        }
        router.post("/v1/collections/:name/quarantine/release") { request, context in
            let name = try context.parameters.require("name")
            return try await mutation(request, context, permission: .command) { buffer, caller in
                let collection = try collections.named(name)
                return try reply(try await release(try decode(QuarantineBody.self, from: buffer), in: collection, caller: caller))
            }
        }
        router.get("/v1/collections/:name/quarantine") { _, context in
            let caller = try context.requireCaller()
            let collection = try collections.named(try context.parameters.require("name"))
            let entries = try await quarantineEntries(of: collection, caller: caller)
            return Self.response(try reply(QuarantineListBody(entries: entries.map {
                QuarantineEntryBody(id: $0.externalID, tenant: $0.tenant, incidentID: $0.incidentID, reason: $0.reason,
                                    quarantinedBy: $0.quarantinedBy, quarantinedAt: $0.quarantinedAt)
            })))
        }
        router.put("/v1/collections/:name/flags/:flag") { request, context in
            let name = try context.parameters.require("name")
            let flagName = try context.parameters.require("flag")
            return try await mutation(request, context, permission: .contain) { buffer, caller in
                let collection = try collections.named(name)
                guard let flag = FeatureFlag(rawValue: flagName) else {
                    throw Problem(.notFound, .unknownFlag, "no flag \(flagName.prefix(64)); flags are FF_INDEX_FREEZE and FF_TENANT_BLOCK")
                }
                return try reply(try await setFlag(flag, try decode(SetFlagBody.self, from: buffer), in: collection, caller: caller))
            }
        }
    }

    // The rules of release and flags, shared by these routes and the console (`Console`): the
    // permission, the tenant scope, the limits and the incident an action goes on.

    /// The active quarantine entries the caller may inspect (its own tenant's when scoped).
    func quarantineEntries(of collection: LiveCollection, caller: Caller) async throws -> [QuarantineEntry] {
        try caller.require(.inspect)
        let id = collection.configuration.id
        return try await pool.withConnection { try QuarantineRecords.entries(collectionID: id, tenant: caller.tenant, on: $0) }
    }

    /// Releases documents from quarantine (incident commanders and admins).
    func release(_ body: QuarantineBody, in collection: LiveCollection, caller: Caller) async throws -> ReleaseResultBody {
        try caller.require(.command)
        try requireWithinLimits(body)
        let scope = try caller.tenant(requested: body.tenant)
        let name = collection.configuration.name
        let outcome = try await collections.release(
            body.ids, in: collection, scope: scope, reason: body.reason,
            incident: try await incidentReference(body.incidentID, otherwise: .declare(title: "Release in \(name): \(body.reason)", severity: .sev2), caller: caller),
            actor: caller.actor)
        return ReleaseResultBody(incidentID: outcome.incidentID, released: outcome.changed, notQuarantined: outcome.unchanged)
    }

    /// Sets or clears a flag: turning on a freeze contains; blocking a tenant or lifting a
    /// freeze commands (and a freeze lifts only after a clean scan, which the engine checks).
    func setFlag(_ flag: FeatureFlag, _ body: SetFlagBody, in collection: LiveCollection, caller: Caller) async throws -> FlagResultBody {
        try caller.require(.contain)
        let scope = try caller.tenant(requested: body.tenant)
        if flag == .tenantBlock || !body.enabled { try caller.require(.command) }
        let reason = body.reason ?? "\(flag.rawValue) \(body.enabled ? "on" : "off")"
        let incidentID = try await collections.setFlag(
            flag, enabled: body.enabled, tenant: scope, in: collection,
            incident: try await incidentReference(body.incidentID, otherwise: .declare(title: "\(flag.rawValue) in \(collection.configuration.name): \(reason)", severity: .sev2), caller: caller),
            actor: caller.actor)
        return FlagResultBody(flag: flag.rawValue, enabled: body.enabled, tenant: scope, incidentID: incidentID)
    }

    /// At most `quarantineIDsMax` ids per quarantine or release.
    func requireWithinLimits(_ body: QuarantineBody) throws(Problem) {
        guard body.ids.count <= limits.quarantineIDsMax else {
            throw Problem(.badRequest, .invalidInput,
                          "\(body.ids.count) ids in one request; the limit is \(limits.quarantineIDsMax) (quarantineIDsMax)")
        }
    }

    /// The incident a containment action goes on: the one named, or `otherwise`. A
    /// tenant-scoped caller may name only its own tenant's incidents (another's is 404
    /// `unknown_incident`, exactly as if it did not exist), and "the collection's open
    /// incident" means its own tenant's.
    func incidentReference(_ id: String?, otherwise: IncidentReference, caller: Caller) async throws -> IncidentReference {
        if let id {
            if caller.tenant != nil { _ = try await incident(id, visibleTo: caller) }
            return .existing(id)
        }
        guard let scope = caller.tenant, case let .openOrDeclare(title, severity, _) = otherwise else { return otherwise }
        return .openOfTenantOrDeclare(tenant: scope, title: title, severity: severity)
    }
}
