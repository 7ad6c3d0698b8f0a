// Console+SignIn — the sign-in form, the session cookie, sign-out.
//
// Owns: exchanging an API token (POSTed in a form, never in a URL) for a session cookie, and
// ending a session.
// Never: echoes the token; follows a `next` that leaves /console (an open redirect); sets a
// cookie readable by script or sent cross-site.
// Invariants: the cookie is `HttpOnly; SameSite=Strict; Path=/console; Max-Age=<lifetime>`,
// plus `Secure` when the request arrived over https (`X-Forwarded-Proto: https` from a proxy);
// sign-out needs the session's CSRF token like every other action.

import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Store

extension Console {
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!

    func addSignInRoutes(to router: Router<APIContext>) {
        router.get("/console/sign-in") { request, _ in
            if try await currentVisit(request) != nil { return Self.redirect(Self.safeNext(request.uri.queryParameters["next"].map(String.init))) }
            return Self.html(signInPage(next: request.uri.queryParameters["next"].map(String.init), failure: nil))
        }
        router.post("/console/sign-in") { request, _ in
            guard let form = try await readForm(request) else {
                return Self.html(signInPage(next: nil, failure: "The form could not be read."), status: .badRequest)
            }
            let next = form.text("next")
            guard let token = form.text("token"), let caller = try await tokens.caller(token: token) else {
                return Self.html(signInPage(next: next, failure: "That token is unknown or revoked."), status: .unauthorized)
            }
            let session = try await sessions.open(tokenDigest: caller.tokenDigest)
            return Self.redirect(Self.safeNext(next), cookie: Self.cookie(session.id, maxAge: ConsoleSessions.lifetimeSeconds,
                                                                          secure: Self.isHTTPS(request)))
        }
        router.post("/console/sign-out") { request, _ in
            guard let visit = try await currentVisit(request), let form = try await readForm(request),
                  ConsoleSessions.csrfMatches(form["csrf"], visit.session) else {
                return try await errorPage(Self.csrfRefused, nil)
            }
            try await sessions.close(id: visit.session.id)
            return Self.redirect("/console/sign-in", cookie: Self.cookie("", maxAge: 0, secure: Self.isHTTPS(request)))
        }
    }

    static func cookie(_ value: String, maxAge: Int, secure: Bool) -> String {
        "\(ConsoleSessions.cookieName)=\(value); Path=/console; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    static func isHTTPS(_ request: Request) -> Bool {
        request.headers[forwardedProto]?.lowercased() == "https"
    }

    /// Where to go after signing in: a console path, never another site or scheme.
    static func safeNext(_ next: String?) -> String {
        guard let next, next == root || next.hasPrefix(root + "/") || next.hasPrefix(root + "?"),
              !next.contains("//"), !next.contains("\\"), !next.hasPrefix(root + "/sign-") else { return root }
        return next
    }

    func signInPage(next: String?, failure: String?) -> HTML {
        let error: HTML = failure.map { "<p class=\"error\" role=\"alert\">\($0)</p>" } ?? .empty
        return ConsoleLayout.bare(title: "Sign in", """
            <div class="signin">
            <h1>Sign in to the incident console</h1>
            \(error)
            <form method="post" action="/console/sign-in" class="panel">
            <label for="token">API token<input type="password" id="token" name="token" autocomplete="off" required></label>
            <input type="hidden" name="next" value="\(Self.safeNext(next))">
            <button type="submit" class="primary">Sign in</button>
            </form>
            <p class="muted">Any Firebreak API token works; what you may do is its role’s. The session lasts \(String(ConsoleSessions.lifetimeSeconds / 3600)) hours or until you sign out.</p>
            </div>
            """)
    }

    /// The request's form fields (nil for a body over the limit or not form-encoded UTF-8).
    func readForm(_ request: Request) async throws -> ConsoleForm? {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: ConsoleForm.bytesMax)
        } catch {
            return nil
        }
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else { return nil }
        return ConsoleForm(encoded: text)
    }

    static let csrfRefused = Problem(.forbidden, .csrfFailed,
                                     "this action needs a signed-in session and the form's CSRF token; reload the page and try again")
}
