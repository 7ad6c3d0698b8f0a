import Engine
import Foundation
import HTTPTypes
import Hummingbird
import Incidents
import Instrumentation
import Logging
import Store

/// Turns every error into a problem-details response, counts requests in flight and refuses
/// work beyond `concurrentRequestsMax` with 503 and Retry-After.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let limits: ServerLimits
    let metrics: ServiceMetrics
    let inFlight: InFlightCounter

    func handle(_ request: Request, context: APIContext,
                next: (Request, APIContext) async throws -> Response) async throws -> Response {
        guard inFlight.enter(limit: limits.concurrentRequestsMax) else {
            var problem = Problem(.serviceUnavailable, .overloaded,
                                  "more than \(limits.concurrentRequestsMax) requests in flight; retry shortly")
            problem.headers[.retryAfter] = "1"
            return try problem.response(from: request, context: context)
        }
        metrics.inFlight(inFlight.current)
        defer { inFlight.leave(); metrics.inFlight(inFlight.current) }
        do {
            return try await next(request, context)
        } catch {
            let problem = Problem.from(error)
            if problem.status.code >= 500 {
                context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            }
            return try problem.response(from: request, context: context)
        }
    }
}

/// Puts this replica's applied change-log position on every response
/// (`Firebreak-Applied-Seq`), problem responses included (it is the outermost middleware).
struct ReplicaHeadersMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let replica: ReplicaPosition

    func handle(_ request: Request, context: APIContext,
                next: (Request, APIContext) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[API.appliedSeqHeader] = String(replica.appliedSeq)
        return response
    }
}

/// Requests being served now.
final class InFlightCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func enter(limit: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard count < limit else { return false }
        count += 1
        return true
    }

    func leave() { lock.lock(); count -= 1; lock.unlock() }
    var current: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// Bearer-token authentication: the token's SHA-256 is looked up (and cached briefly), the
/// caller's role and tenant scope go into the context. Open paths need no token; the console
/// (/console…) authenticates its own session cookie (`Console.visit`).
struct AuthMiddleware: RouterMiddleware {
    typealias Context = APIContext
    static let openPaths: Set<String> = ["/healthz", "/readyz", "/metrics", "/openapi.json"]
    let tokens: TokenCache

    static func isOpen(_ path: String) -> Bool {
        openPaths.contains(path) || path == Console.root || path.hasPrefix(Console.root + "/")
    }

    func handle(_ request: Request, context: APIContext,
                next: (Request, APIContext) async throws -> Response) async throws -> Response {
        if Self.isOpen(request.uri.path) { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.count > 7 else {
            var problem = Problem(.unauthorized, .unauthorized, "send Authorization: Bearer <token>")
            problem.headers[.wwwAuthenticate] = "Bearer"
            throw problem
        }
        guard let caller = try await tokens.caller(token: String(header.dropFirst(7))) else {
            var problem = Problem(.unauthorized, .unauthorized, "the token is unknown or revoked")
            problem.headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
            throw problem
        }
        var context = context
        context.caller = caller
        return try await next(request, context)
    }
}

/// Token digests → callers, cached for `ttlSeconds` so a search costs no database round trip.
final class TokenCache: @unchecked Sendable {
    static let ttlSeconds = 30.0
    static let entriesMax = 10_000
    private let pool: ConnectionPool
    private let lock = NSLock()
    private var entries: [String: (caller: Caller, expires: Date)] = [:]

    init(pool: ConnectionPool) { self.pool = pool }

    func caller(token: String) async throws -> Caller? {
        guard token.utf8.count <= 256 else { return nil }
        let digest = TokenRecords.digest(token)
        let now = Date()
        if let cached = lock.withLock({ entries[digest] }), cached.expires > now { return cached.caller }
        guard let grant = try await pool.withConnection({ try TokenRecords.lookup(digest: digest, on: $0) }),
              let role = Role(rawValue: grant.role) else { return nil }
        let caller = Caller(tokenID: grant.id, tokenDigest: digest, role: role, tenant: grant.tenant)
        lock.withLock {
            if entries.count >= Self.entriesMax { entries.removeAll() }
            entries[digest] = (caller, now.addingTimeInterval(Self.ttlSeconds))
        }
        return caller
    }
}

/// Runs each request under a span of the caller's trace (its `traceparent`, or a new trace):
/// the timeline events it appends and the retrieval-log rows it writes carry that trace id,
/// and the response's `traceparent` names the span, so a client can find its request in both.
struct TraceMiddleware: RouterMiddleware {
    typealias Context = APIContext
    static let header = HTTPField.Name("traceparent")!

    func handle(_ request: Request, context: APIContext,
                next: (Request, APIContext) async throws -> Response) async throws -> Response {
        // The server span Hummingbird's TracingMiddleware started (when a tracer exports), or a
        // span of our own under the caller's traceparent.
        let trace = InstrumentationContext.current.flatMap(Spans.trace(of:)) ?? TraceContext(continuing: request.headers[Self.header])
        var response = try await TraceContext.$current.withValue(trace) { try await next(request, context) }
        response.headers[Self.header] = trace.traceparent
        return response
    }
}
