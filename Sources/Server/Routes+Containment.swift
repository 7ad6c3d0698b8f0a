import Engine
import FirebreakAPI
import Foundation
import HubScan
import Hummingbird
import Store

extension API {
    func addContainmentRoutes(to router: Router<APIContext>) {
        router.post("/v1/collections/:name/scans") { request, context in
            let name = try context.parameters.require("name")
            return try await mutation(request, context, permission: .contain) { buffer, caller in
                let collection = try collections.named(name)
                let body = try decode(ScanRequestBody.self, from: buffer)
                let policy = try body.policy.map { name throws(Problem) -> ScanPolicy in
                    guard let policy = ScanPolicy(rawValue: name) else {
                        throw Problem(.badRequest, .invalidInput, "policy must be alert or auto-contain")
                    }
                    if policy == .autoContain { try caller.require(.command) }
                    return policy
                }
                let scan = try await collections.scan(collection, tenant: try caller.tenant(requested: body.tenant),
                                                      options: try ScanSettings(body.settings).options(), domainField: body.domainField)
                var outcome: ContainmentOutcome?
                if let policy {
                    outcome = try await collections.respond(to: scan, in: collection, policy: policy, actor: caller.actor)
                }
                return try reply(ScanResultBody(id: scan.id, tenant: scan.tenant, report: scan.labelled, outcome: outcome))
            }
        }
        router.get("/v1/collections/:name/scans") { request, context in
            let caller = try context.requireCaller()
            try caller.require(.inspect)
            let collection = try collections.named(try context.parameters.require("name"))
            let (limit, before) = try ScanPageQuery.parse(request.uri.queryParameters)
            return Self.response(try reply(try await scans(of: collection, limit: limit, before: before, caller: caller)))
        }
        router.put("/v1/collections/:name/scan-schedule") { request, context in
            let name = try context.parameters.require("name")
            return try await mutation(request, context, permission: .command) { buffer, caller in
                let collection = try collections.named(name)
                let body = try decode(ScheduleBody.self, from: buffer)
                let options = try JSONEncoder.api.encodeOrProblem(body.settings)
                try await scheduler.put(ScheduleRecord(collectionID: collection.configuration.id, everySeconds: body.everySeconds,
                                                       policy: body.policy, optionsJSON: options, enabled: body.enabled ?? true),
                                        actor: caller.actor)
                return Reply(data: try JSONEncoder.api.encode(body))
            }
        }
        router.get("/v1/scans/:id") { _, context in
            let caller = try context.requireCaller()
            try caller.require(.inspect)
            let text = try context.parameters.require("id")
            let notFound = Problem(.notFound, .unknownScan, "no scan \(text.prefix(32))")
            guard let id = Int64(text),
                  let stored = try await pool.withConnection({ try ScanReportRecords.load(id, on: $0) }),
                  caller.tenant == nil || caller.tenant == stored.tenant else { throw notFound }
            return Self.response(try reply(ScanResultBody(id: stored.id, tenant: stored.tenant, report: try stored.labelled())))
        }
        router.post("/v1/collections/:name/rebuild") { request, context in
            let name = try context.parameters.require("name")
            return try await mutation(request, context, permission: .contain) { buffer, caller in
                let collection = try collections.named(name)
                return try reply(try await startRebuild(try decode(RebuildBody.self, from: buffer), of: collection, caller: caller),
                                 status: .accepted)
            }
        }
        router.get("/v1/jobs") { request, context in
            let caller = try context.requireCaller()
            let filter = try JobFilter(query: request.uri.queryParameters)
            return Self.response(try reply(JobListBody(jobs: try await jobs(filter, caller: caller))))
        }
        router.get("/v1/jobs/:id") { _, context in
            let caller = try context.requireCaller()
            try caller.require(.inspect)
            return Self.response(try reply(try await visibleJob(context, caller: caller)))
        }
        router.delete("/v1/jobs/:id") { request, context in
            try await mutation(request, context, permission: .command) { _, caller in
                let job = try await visibleJob(context, caller: caller)
                try await collections.cancel(job: job.id, actor: caller.actor)
                return try reply(try await visibleJob(context, caller: caller))
            }
        }
    }

    /// Starts a rebuild (the route's rule and the console's): the options checked, the
    /// incident named or the collection's open one (else a new SEV-2), the tenant scoped.
    func startRebuild(_ body: RebuildBody, of collection: LiveCollection, caller: Caller) async throws -> JobStartedBody {
        try caller.require(.contain)
        var options = RebuildOptions()
        options.validateScan = body.validateScan ?? false
        options.threshold = body.threshold ?? options.threshold
        if let drop = body.goldenMRRDropMax {
            guard (0...1).contains(drop) else {
                throw Problem(.badRequest, .invalidInput, "golden_mrr_drop_max must be in 0...1")
            }
            options.goldenMRRDropMax = drop
        }
        let reason = body.reason ?? "rebuild of \(collection.configuration.name)"
        let incident = try await incidentReference(body.incidentID, otherwise: .openOrDeclare(title: reason, severity: .sev2), caller: caller)
        let started = try await collections.rebuild(collection, tenant: try caller.tenant(requested: body.tenant),
                                                    incident: incident, actor: caller.actor, options: options)
        return JobStartedBody(jobID: started.job, incidentID: started.incidentID)
    }

    private func visibleJob(_ context: APIContext, caller: Caller) async throws -> JobBody {
        let text = try context.parameters.require("id")
        guard let id = Int64(text) else { throw Problem(.notFound, .unknownJob, "no job \(text.prefix(32))") }
        return try await job(id, visibleTo: caller)
    }

    /// A job as the contract shows it, unless the caller is scoped to another tenant (then 404).
    func job(_ id: Int64, visibleTo caller: Caller) async throws -> JobBody {
        try caller.require(.inspect)
        let record = try await collections.job(id)
        guard caller.tenant == nil || caller.tenant == record.tenant else { throw Problem(.notFound, .unknownJob, "no job \(id)") }
        return jobBody(record)
    }

    /// A stored job as the contract shows it: its collection by name, and the time left
    /// estimated from its progress while it runs.
    func jobBody(_ record: JobRecord) -> JobBody {
        let eta = record.state == "running" && record.progress > 0.01
            ? record.runningSeconds.map { $0 * (1 - record.progress) / record.progress } : nil
        return JobBody(id: record.id, kind: record.kind, state: record.state, progress: record.progress, etaSeconds: eta,
                       error: record.error, collection: collections.all.first { $0.configuration.id == record.collectionID }?.configuration.name,
                       tenant: record.tenant, incidentID: record.incidentID, createdAt: record.createdAt)
    }
}
