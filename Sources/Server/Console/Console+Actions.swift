// Console+Actions — what the console's buttons do: release, rebuild, lift a freeze, roll
// back, move an incident's status.
//
// Owns: reading each action's form into the API's request body, the typed confirmation of a
// rollback, and the redirect (303) back to the page with a one-line notice.
// Never: acts without a live session and its CSRF token (403, nothing changes); applies a rule
// of its own besides the rollback confirmation: permissions, tenant scope, limits and incident
// events are those of the API function the JSON route calls (`API.release` and the others).
// Each form carries a one-time key (`form_key`): a second submit of the same form (a double
// click, a reload) is not acted on again, as an Idempotency-Key on the API. A POST whose
// `Origin` names another site is refused (403) before its CSRF token is even read.
// Invariant: every action either redirects (it took effect) or answers an error page with the
// problem's status and code.

import Engine
import FirebreakAPI
import Foundation
import HTTPTypes
import Hummingbird

extension Console {
    typealias Outcome = (location: String, notice: String)

    func addActionRoutes(to router: Router<APIContext>) {
        action(router, "/console/collections/:name/release") { form, context, visit in
            let name = try context.parameters.require("name")
            let collection = try api.collections.named(name)
            guard let id = form.text("id") else { throw Problem(.badRequest, .invalidInput, "name the document to release") }
            guard let reason = form.text("reason") else { throw Problem(.badRequest, .invalidInput, "a release needs a reason") }
            // Ids are unique per tenant: the row names its document's tenant.
            let result = try await api.release(QuarantineBody(ids: [id], reason: reason, incidentID: form.text("incident_id"),
                                                              tenant: form.text("tenant")),
                                               in: collection, caller: visit.caller)
            let notice = result.released.isEmpty
                ? "\(id) was not quarantined; nothing changed."
                : "Released \(result.released.joined(separator: ", ")) under \(result.incidentID); it is served again."
            return (Console.path("collections", name), notice)
        }
        action(router, "/console/collections/:name/rebuild") { form, context, visit in
            let name = try context.parameters.require("name")
            let collection = try api.collections.named(name)
            let started = try await api.startRebuild(RebuildBody(tenant: form.text("tenant"), reason: form.text("reason")),
                                                     of: collection, caller: visit.caller)
            return (Console.path("collections", name) + "?job=\(started.jobID)",
                    "Rebuild job \(started.jobID) started under \(started.incidentID ?? "its incident").")
        }
        action(router, "/console/collections/:name/unfreeze") { form, context, visit in
            let name = try context.parameters.require("name")
            let collection = try api.collections.named(name)
            let result = try await api.setFlag(.indexFreeze, SetFlagBody(enabled: false, tenant: form.text("tenant"),
                                                                         reason: form.text("reason")),
                                               in: collection, caller: visit.caller)
            return (Console.path("collections", name), "The freeze is lifted (recorded on \(result.incidentID)).")
        }
        action(router, "/console/collections/:name/rollback") { form, context, visit in
            let name = try context.parameters.require("name")
            let collection = try api.collections.named(name)
            guard form.text("confirm") == name else {
                throw Problem(.badRequest, .confirmationRequired, "type the collection name (\(name)) to confirm the rollback")
            }
            guard let snapshot = form.text("snapshot_id") else {
                throw Problem(.badRequest, .invalidInput, "choose a snapshot to roll back to")
            }
            let result = try await api.rollback(RollbackBody(snapshotID: snapshot, tenant: form.text("tenant"), reason: form.text("reason")),
                                                of: collection, caller: visit.caller)
            return (Console.path("collections", name),
                    "Rolled back to \(result.snapshotID) under \(result.incidentID): \(result.retired) documents stopped being served.")
        }
        action(router, "/console/collections/:name/snapshots/:id/verify") { _, context, visit in
            let name = try context.parameters.require("name"), id = try context.parameters.require("id")
            let result = try await api.verifySnapshot(id, ScanSettingsBody(), of: try api.collections.named(name), caller: visit.caller)
            let verdict = result.clean ? "clean: it is now \(result.status)" : "not clean: \(result.flagged) documents flagged"
            return (Console.path("collections", name),
                    "Snapshot \(result.id) verified against its root hash; its scan (z max \(Console.decimal(result.maxZ)), threshold \(Console.decimal(result.threshold))) is \(verdict).")
        }
        action(router, "/console/incidents/:id/transition") { form, context, visit in
            let id = try context.parameters.require("id")
            guard let status = form.text("status"), let reason = form.text("reason") else {
                throw Problem(.badRequest, .invalidInput, "choose a status and give a reason")
            }
            try await api.transition(id, TransitionBody(status: status, reason: reason), caller: visit.caller)
            return (Console.path("incidents", id), "\(id) is now \(status).")
        }
        addIncidentRecordRoutes(to: router)
    }

    /// A POST action: a live session and its CSRF token first (else 403), then `act`; success
    /// redirects with a notice, an error is a page with the problem's status.
    func action(_ router: Router<APIContext>, _ path: RouterPath,
                        _ act: @escaping @Sendable (ConsoleForm, APIContext, Visit) async throws -> Outcome) {
        router.post(path) { request, context in
            guard let visit = try await currentVisit(request) else { return try await errorPage(Self.csrfRefused, nil) }
            guard Self.originMatches(request), let form = try await readForm(request),
                  ConsoleSessions.csrfMatches(form["csrf"], visit.session) else {
                return try await errorPage(Self.csrfRefused, visit)
            }
            guard try await sessions.claim(formKey: form["form_key"], of: visit.session.id) else {
                try await sessions.post(notice: "That form was already submitted; nothing was done a second time.", to: visit.session.id)
                return Self.redirect(Self.page(ofAction: request.uri.path))
            }
            do {
                let outcome = try await act(form, context, visit)
                try await sessions.post(notice: outcome.notice, to: visit.session.id)
                return Self.redirect(outcome.location)
            } catch {
                return try await errorPage(Problem.from(error), visit)
            }
        }
    }

    /// Whether the request's `Origin`, when the browser sent one, is this service: its host
    /// and port equal the `Host` the request was sent to (`X-Forwarded-Host` behind a proxy).
    static func originMatches(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.headers[.xForwardedHost] ?? request.head.authority,
              let components = URLComponents(string: origin), let originHost = components.host else { return false }
        let originAuthority = originHost + (components.port.map { ":\($0)" } ?? "")
        return originAuthority.lowercased() == host.lowercased()
    }

    /// The page an action was posted from: /console/{collections|incidents}/{name}.
    static func page(ofAction path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).prefix(3)
        return parts.count == 3 ? "/" + parts.joined(separator: "/") : root
    }
}

extension HTTPField.Name {
    static let origin = Self("Origin")!
    static let xForwardedHost = Self("X-Forwarded-Host")!
}
