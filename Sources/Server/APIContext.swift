import Hummingbird

/// The per-request context: Hummingbird's core storage plus the authenticated caller.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthMiddleware` on every route but the open ones.
    public var caller: Caller?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// The caller, which the auth middleware guarantees on protected routes.
    func requireCaller() throws(Problem) -> Caller {
        guard let caller else { throw Problem(.unauthorized, .unauthorized, "a bearer token is required") }
        return caller
    }
}
