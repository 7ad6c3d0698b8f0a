// Console — the incident console at /console: HTML pages rendered on the server, on the
// same port as the API, for the people who run an incident.
//
// Owns: the /console routes, sign-in with an API token into a session cookie (HttpOnly,
// SameSite=Strict, Path=/console; Secure behind an https proxy), the CSRF check on every
// action, and turning results and errors into pages.
// Never: decides a business rule. Every action calls the same `API` function its JSON route
// calls (`release`, `startRebuild`, `rollback`, `setFlag`, `transition`), with the session's
// `Caller`, so roles, tenant scope, limits and the incident events are the API's; the console
// only adds the typed confirmation before a rollback, after a page that shows what it changes. Never renders a value unescaped (`HTML`),
// never acts on a POST without the session's CSRF token (403), never shows a caller what the
// API would refuse it (a reader sees collection status, not quarantine lists or incidents).
// Invariants:
// - A GET without a live session is 303 to /console/sign-in; a POST without one is 403.
// - Every POST carries `csrf` equal to its session's token, else 403 and nothing happens.
// - The session maps to a token digest that is looked up in `api_tokens` on each request:
//   a revoked token's sessions end at their next request.
// - Pages are `Cache-Control: no-store` with a CSP that allows only this origin's assets.

import Engine
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Store

struct Console: Sendable {
    static let root = "/console"
    let api: API
    let sessions: ConsoleSessions
    let tokens: TokenCache

    /// A signed-in request: its session and the caller its token is now.
    struct Visit: Sendable {
        let session: ConsoleSessions.Session
        let caller: Caller
        var notice: String?
    }

    func addRoutes(to router: Router<APIContext>) {
        router.get("/console/assets/:file") { _, context in
            guard let asset = ConsoleAssets.named(try context.parameters.require("file")) else {
                return Self.html(ConsoleLayout.bare(title: "Not found", "<p>No such asset.</p>"), status: .notFound)
            }
            return Response(status: .ok, headers: [.contentType: asset.contentType, .cacheControl: ConsoleAssets.cacheControl,
                                                   .eTag: asset.etag, .xContentTypeOptions: "nosniff"],
                            body: .init(byteBuffer: ByteBuffer(bytes: asset.data)))
        }
        addSignInRoutes(to: router)
        page(router, "/console") { request, _, visit in try await overview(visit) }
        page(router, "/console/collections/:name") { request, context, visit in
            let query = request.uri.queryParameters
            return try await collectionPage(try context.parameters.require("name"), job: query["job"].flatMap { Int64($0) },
                                            scansBefore: query["scans_before"].flatMap { Int64($0) }, visit)
        }
        page(router, "/console/collections/:name/rollback") { request, context, visit in
            try await rollbackPage(try context.parameters.require("name"), request.uri.queryParameters, visit)
        }
        router.get("/console/live") { request, _ in
            guard let visit = try await currentVisit(request) else { return Self.text("sign in", status: .unauthorized) }
            return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder.api.encode(try await liveBanner(visit)))))
        }
        router.get("/console/collections/:name/live") { request, context in
            guard let visit = try await currentVisit(request) else { return Self.text("sign in", status: .unauthorized) }
            return try await live(try context.parameters.require("name"), visit)
        }
        page(router, "/console/incidents") { request, _, visit in
            try await incidentsPage(request.uri.queryParameters, visit)
        }
        page(router, "/console/incidents/:id") { _, context, visit in
            try await incidentPage(try context.parameters.require("id"), visit)
        }
        addActionRoutes(to: router)
    }

    // MARK: Sessions

    /// The signed-in visit of this request, or nil (no cookie, unknown, expired or revoked).
    func currentVisit(_ request: Request) async throws -> Visit? {
        guard let session = try await sessions.session(id: request.cookies[ConsoleSessions.cookieName]?.value) else { return nil }
        let digest = session.tokenDigest
        guard let grant = try await api.pool.withConnection({ try TokenRecords.lookup(digest: digest, on: $0) }),
              let role = Role(rawValue: grant.role) else {
            try await sessions.close(id: session.id)
            return nil
        }
        return Visit(session: session, caller: Caller(tokenID: grant.id, tokenDigest: digest, role: role, tenant: grant.tenant),
                     notice: try await sessions.takeNotice(of: session.id))
    }

    /// A GET page: a session required (else to sign-in), errors rendered as pages.
    private func page(_ router: Router<APIContext>, _ path: RouterPath,
                      _ render: @escaping @Sendable (Request, APIContext, Visit) async throws -> HTML) {
        router.get(path) { request, context in
            guard let visit = try await currentVisit(request) else {
                let next = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
                return Self.redirect("/console/sign-in?" + ConsoleForm.encode([("next", next)]))
            }
            do {
                return Self.html(try await render(request, context, visit))
            } catch {
                return try await errorPage(Problem.from(error), visit)
            }
        }
    }

    func errorPage(_ problem: Problem, _ visit: Visit?) async throws -> Response {
        let body: HTML = """
            <h1>\(problem.status.reasonPhrase)</h1>
            <p class="error" role="alert">\(problem.detail) <span class="muted">(\(problem.code.rawValue))</span></p>
            <p><a href="/console">Back to the overview</a></p>
            """
        guard let visit else { return Self.html(ConsoleLayout.bare(title: problem.status.reasonPhrase, body), status: problem.status) }
        return Self.html(try await layout(title: problem.status.reasonPhrase, visit, body), status: problem.status)
    }

    // MARK: Responses

    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func html(_ page: HTML, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                                           .contentSecurityPolicy: contentSecurityPolicy, .xContentTypeOptions: "nosniff",
                                           .xFrameOptions: "DENY", .referrerPolicy: "same-origin"],
                 body: .init(byteBuffer: ByteBuffer(string: page.text)))
    }

    static func text(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// 303 See Other: after a POST the browser GETs the page.
    static func redirect(_ location: String, cookie: String? = nil) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: .seeOther, headers: headers)
    }

    /// A console path for a collection or incident (names are validated slugs; encoded anyway).
    static func path(_ parts: String...) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return root + parts.map { "/" + ($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? "") }.joined()
    }
}

extension HTTPField.Name {
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
