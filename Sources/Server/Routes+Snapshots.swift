import Engine
import FirebreakAPI
import Foundation
import Hummingbird
import Snapshots
import Store

extension API {
    /// Snapshots are of a whole collection: a tenant-scoped token may not take, verify or list them.
    private func requireUnscoped(_ caller: Caller) throws(Problem) {
        guard caller.tenant == nil else {
            throw Problem(.forbidden, .tenantForbidden, "snapshots cover every tenant of a collection; this token is scoped to \(caller.tenant!)")
        }
    }

    func addSnapshotRoutes(to router: Router<APIContext>) {
        router.post("/v1/collections/:name/snapshots") { request, context in
            let name = try context.parameters.require("name")
            return try await mutation(request, context, permission: .contain) { _, caller in
                try requireUnscoped(caller)
                let summary = try await collections.snapshot(try collections.named(name), actor: caller.actor)
                return try reply(SnapshotBody(id: summary.id, rootHash: summary.rootHash, status: summary.status.rawValue,
                                              parent: summary.parent, documents: summary.documents, tenants: summary.tenants,
                                              seconds: summary.seconds), status: .created)
            }
        }
        router.get("/v1/collections/:name/snapshots") { _, context in
            let caller = try context.requireCaller()
            let listed = try await snapshotList(of: try collections.named(try context.parameters.require("name")), caller: caller)
            return Self.response(try reply(SnapshotListBody(snapshots: listed.map { entry in
                SnapshotBody(id: entry.record.id, rootHash: entry.record.rootHash ?? "", status: entry.record.status.rawValue,
                             parent: entry.record.parentID, documents: entry.documents, createdAt: entry.createdAt,
                             scanReportID: entry.record.scanReportID)
            })))
        }
        router.post("/v1/collections/:name/snapshots/:id/verify") { request, context in
            let name = try context.parameters.require("name"), id = try context.parameters.require("id")
            return try await mutation(request, context, permission: .contain) { buffer, caller in
                let settings = buffer.readableBytes == 0 ? ScanSettingsBody() : try decode(ScanSettingsBody.self, from: buffer)
                return try reply(try await verifySnapshot(id, settings, of: try collections.named(name), caller: caller))
            }
        }
        router.post("/v1/collections/:name/rollback") { request, context in
            let name = try context.parameters.require("name")
            return try await mutation(request, context, permission: .command) { buffer, caller in
                let body = try decode(RollbackBody.self, from: buffer)
                return try reply(try await rollback(body, of: try collections.named(name), caller: caller))
            }
        }
    }

    /// Rolls a collection back to a snapshot (the route's rule and the console's): incident
    /// commanders and admins, under the named incident or the collection's open one.
    func rollback(_ body: RollbackBody, of collection: LiveCollection, caller: Caller) async throws -> RollbackResultBody {
        try caller.require(.command)
        let reason = body.reason ?? "rollback of \(collection.configuration.name) to \(body.snapshotID.prefix(128))"
        let incident = try await incidentReference(body.incidentID, otherwise: .openOrDeclare(title: reason, severity: .sev2), caller: caller)
        let outcome = try await collections.rollback(collection, to: body.snapshotID, tenant: try caller.tenant(requested: body.tenant),
                                                     incident: incident, actor: caller.actor)
        return RollbackResultBody(snapshotID: outcome.snapshotID, rootHash: outcome.rootHash, incidentID: outcome.incidentID,
                                  tenants: outcome.tenants, documents: outcome.documents, retired: outcome.retired,
                                  seconds: outcome.seconds, phases: outcome.phases)
    }

    /// Verifies a snapshot's files and scans what it would serve (the route's rule and the
    /// console's): unscoped callers who may contain.
    func verifySnapshot(_ id: String, _ settings: ScanSettingsBody, of collection: LiveCollection,
                        caller: Caller) async throws -> VerificationBody {
        try caller.require(.contain)
        try requireUnscoped(caller)
        let result = try await collections.verify(snapshot: id, of: collection, options: try ScanSettings(settings).options())
        return VerificationBody(id: result.id, rootHash: result.rootHash, status: result.status.rawValue,
                                clean: result.maxZ < result.threshold, scanID: result.scanID, maxZ: result.maxZ,
                                threshold: result.threshold, flagged: result.flagged)
    }

    /// What a rollback would change, changing nothing (the console's confirmation page; the
    /// same permission as the rollback itself).
    func rollbackPreview(_ snapshotID: String, tenant: String?, of collection: LiveCollection,
                         caller: Caller) async throws -> RollbackPreview {
        try caller.require(.command)
        return try await collections.previewRollback(collection, to: snapshotID, tenant: try caller.tenant(requested: tenant))
    }

    /// A collection's snapshots, newest first (unscoped inspectors only).
    func snapshotList(of collection: LiveCollection, caller: Caller) async throws -> [SnapshotRecords.Listed] {
        try caller.require(.inspect)
        try requireUnscoped(caller)
        return try await collections.snapshots(of: collection)
    }
}
