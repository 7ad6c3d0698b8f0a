import Engine
import FirebreakAPI
import Foundation
import Hummingbird
import Incidents
import Store

extension API {
    func addIncidentRoutes(to router: Router<APIContext>) {
        router.post("/v1/incidents") { request, context in
            try await mutation(request, context, permission: .contain) { buffer, caller in
                let body = try decode(DeclareIncidentBody.self, from: buffer)
                guard let severity = Severity(rawValue: body.severity) else {
                    throw Problem(.badRequest, .invalidInput, "severity must be one of SEV-0 … SEV-4")
                }
                guard let taxonomy = TaxonomyClass(rawValue: body.taxonomyClass ?? "corpus") else {
                    throw Problem(.badRequest, .invalidInput,
                                  "taxonomy_class must be one of \(TaxonomyClass.slugs.joined(separator: ", "))")
                }
                if let collection = body.collection { _ = try collections.named(collection) }
                let tenant = try caller.tenant(requested: body.tenant)
                let (incident, timeline) = try await collections.declareIncident(
                    title: body.title, severity: severity, taxonomyClass: taxonomy, reporter: caller.actor, tenant: tenant,
                    collection: body.collection, traceparent: body.traceparent)
                return try reply(IncidentBody(incident, events: timeline.events.count), status: .created)
            }
        }
        router.get("/v1/incidents") { request, context in
            let caller = try context.requireCaller()
            let filter = try IncidentFilter(query: request.uri.queryParameters)
            return Self.response(try reply(IncidentListBody(incidents: try await incidents(filter, caller: caller))))
        }
        router.get("/v1/incidents/:id") { _, context in
            let (incident, timeline) = try await visibleIncident(context)
            return Self.response(try reply(IncidentBody(incident, events: timeline.events.count)))
        }
        router.get("/v1/incidents/:id/timeline") { _, context in
            let (_, timeline) = try await visibleIncident(context)
            return Self.response(try reply(TimelineBody(incidentID: timeline.incidentID, events: timeline.events.map(EventBody.init))))
        }
        router.get("/v1/incidents/:id/verify") { _, context in
            let (_, timeline) = try await visibleIncident(context)
            let result = timeline.verify()
            return Self.response(try reply(VerifyBody(intact: result.intact, events: timeline.events.count, head: timeline.head,
                                                      firstBadSequence: result.firstBadSequence, problem: result.problem)))
        }
        router.get("/v1/incidents/:id/blast-radius") { _, context in
            let (incident, _) = try await visibleIncident(context)
            let radius = try await collections.blastRadius(incidentID: incident.id)
            let caller = try context.requireCaller()
            let visible = radius.tenants.filter { caller.tenant == nil || $0.tenant == caller.tenant }
            return Self.response(try reply(BlastRadiusBody(incidentID: radius.incidentID, documents: radius.documents,
                                                           requests: visible.reduce(0) { $0 + $1.requests },
                                                           tenants: visible.map(ExposureBody.init))))
        }
        router.get("/v1/incidents/:id/postmortem") { request, context in
            let download = request.uri.queryParameters["download"].map(String.init) ?? ""
            guard ["", "0", "1"].contains(download) else { throw Problem(.badRequest, .invalidInput, "download must be 0 or 1") }
            let (incident, timeline) = try await visibleIncident(context)
            var response = Self.response(Reply(data: Data(PostmortemDocument.markdown(incident, timeline).utf8),
                                               contentType: "text/markdown; charset=utf-8"))
            if download == "1" { response.headers[Self.contentDispositionHeader] = Self.attachment("\(incident.id)-postmortem.md") }
            return response
        }
        router.get("/v1/incidents/:id/export") { _, context in
            let caller = try context.requireCaller()
            let bundle = try await exportBundle(try context.parameters.require("id"), caller: caller)
            var response = Self.response(Reply(data: try bundle.encodedJSON()))
            response.headers[Self.contentDispositionHeader] = Self.attachment("\(bundle.incident.id).json")
            return response
        }
        addIncidentRecordRoutes(to: router)
    }

    private func addIncidentRecordRoutes(to router: Router<APIContext>) {
        router.post("/v1/incidents/:id/transition") { request, context in
            try await recordOnIncident(request, context, permission: .command) { body, caller, id in
                try await transition(id, try decode(TransitionBody.self, from: body), caller: caller)
            }
        }
        router.post("/v1/incidents/:id/commander") { request, context in
            try await recordOnIncident(request, context, permission: .command) { body, caller, id in
                try await assignCommander(id, try decode(CommanderBody.self, from: body), caller: caller)
            }
        }
        router.post("/v1/incidents/:id/postmortem") { request, context in
            try await recordOnIncident(request, context, permission: .contain) { body, caller, id in
                try await recordPostmortem(id, try decode(PostmortemBody.self, from: body), caller: caller)
            }
        }
        router.post("/v1/incidents/:id/decisions") { request, context in
            try await recordOnIncident(request, context, permission: .contain) { body, caller, id in
                try await decide(id, try decode(DecisionBody.self, from: body), caller: caller)
            }
        }
        router.post("/v1/incidents/:id/evidence") { request, context in
            try await recordOnIncident(request, context, permission: .contain) { body, caller, id in
                try await addEvidence(id, try decode(EvidenceBody.self, from: body), caller: caller)
            }
        }
        router.post("/v1/incidents/:id/actions") { request, context in
            try await recordOnIncident(request, context, permission: .contain) { body, caller, id in
                try await recordAction(id, try decode(ActionBody.self, from: body), caller: caller)
            }
        }
    }

    // The incident records (the routes' rules and the console's): each checks its permission
    // and that the caller may see the incident, then appends through `IncidentService`.

    func assignCommander(_ id: String, _ change: CommanderBody, caller: Caller) async throws {
        try caller.require(.command)
        _ = try await incident(id, visibleTo: caller)
        _ = try await pool.withConnection { try IncidentService.assignCommander(id, commander: change.commander, actor: caller.actor, on: $0) }
    }

    func recordPostmortem(_ id: String, _ fields: PostmortemBody, caller: Caller) async throws {
        try caller.require(.contain)
        _ = try await incident(id, visibleTo: caller)
        let postmortem = Postmortem(summary: fields.summary, failingLayer: fields.failingLayer, rootCause: fields.rootCause,
                                    evaluationGaps: fields.evaluationGaps ?? "", regressionCase: fields.regressionCase)
        _ = try await pool.withConnection { try IncidentService.recordPostmortem(id, postmortem, actor: caller.actor, on: $0) }
    }

    func decide(_ id: String, _ decision: DecisionBody, caller: Caller) async throws {
        try caller.require(.contain)
        _ = try await incident(id, visibleTo: caller)
        let recorded = Decision(who: caller.actor, what: decision.what, why: decision.why, optionsNotTaken: decision.optionsNotTaken ?? [])
        _ = try await pool.withConnection { try IncidentService.decide(id, recorded, on: $0) }
    }

    func addEvidence(_ id: String, _ evidence: EvidenceBody, caller: Caller) async throws {
        try caller.require(.contain)
        _ = try await incident(id, visibleTo: caller)
        let item = Evidence(kind: evidence.kind, sha256: evidence.sha256, location: evidence.location, summary: evidence.summary)
        _ = try await pool.withConnection { try IncidentService.addEvidence(id, item, actor: caller.actor, on: $0) }
    }

    /// Adds an action item, or with `close` closes one with its verification evidence.
    func recordAction(_ id: String, _ action: ActionBody, caller: Caller) async throws {
        try caller.require(.contain)
        _ = try await incident(id, visibleTo: caller)
        if let number = action.close {
            _ = try await pool.withConnection {
                try IncidentService.closeAction(id, number: number, verificationEvidence: action.verificationEvidence ?? "",
                                                actor: caller.actor, on: $0)
            }
            return
        }
        guard let title = action.title, let owner = action.owner, let due = action.due, let verification = action.verification else {
            throw Problem(.badRequest, .invalidInput, "an action needs title, owner, due and verification (or close and verification_evidence)")
        }
        _ = try await pool.withConnection {
            try IncidentService.addAction(id, title: title, owner: owner, due: due, verification: verification, actor: caller.actor, on: $0)
        }
    }

    /// Moves an incident's status (the route's rule and the console's): incident commanders and
    /// admins; `resolved` only once nothing of it is still served or rebuilding.
    func transition(_ id: String, _ change: TransitionBody, caller: Caller) async throws {
        try caller.require(.command)
        guard let status = IncidentStatus(rawValue: change.status) else {
            throw Problem(.badRequest, .invalidInput, "status must be declared, contained, mitigated, resolved or closed")
        }
        _ = try await self.incident(id, visibleTo: caller)
        _ = try await pool.withConnection {
            try IncidentService.transition(id, to: status, reason: change.reason, actor: caller.actor, on: $0)
        }
    }

    /// A mutation on one incident the caller may see; answers with the incident afterwards.
    private func recordOnIncident(_ request: Request, _ context: APIContext, permission: Permission,
                                  _ body: @escaping @Sendable (ByteBuffer, Caller, String) async throws -> Void) async throws -> Response {
        let id = try context.parameters.require("id")
        return try await mutation(request, context, permission: permission) { buffer, caller in
            _ = try await incident(id, visibleTo: caller)
            try await body(buffer, caller, id)
            let (incident, timeline) = try await incident(id, visibleTo: caller)
            return try reply(IncidentBody(incident, events: timeline.events.count))
        }
    }

    private func visibleIncident(_ context: APIContext) async throws -> (Incident, Timeline) {
        let caller = try context.requireCaller()
        try caller.require(.inspect)
        return try await incident(try context.parameters.require("id"), visibleTo: caller)
    }

    /// An incident, unless the caller is scoped to a tenant it does not concern (then 404).
    func incident(_ id: String, visibleTo caller: Caller) async throws -> (Incident, Timeline) {
        let notFound = Problem(.notFound, .unknownIncident, "no incident \(id.prefix(64))")
        guard id.range(of: "^INC-[0-9]{6,12}$", options: .regularExpression) != nil else { throw notFound }
        do {
            let found = try await pool.withConnection { try IncidentRecords.load(id, on: $0) }
            if let scope = caller.tenant, found.0.tenant != scope { throw notFound }
            return found
        } catch let error as StoreError where error.code == .unknownReference {
            throw notFound
        }
    }
}
