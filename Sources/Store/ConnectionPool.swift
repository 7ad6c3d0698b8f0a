import Dispatch
import Incidents
import Synchronization

/// A bounded pool of libpq connections. Each connection has its own serial dispatch queue,
/// and a caller's block runs there: libpq's blocking calls occupy those threads, never the
/// cooperative pool that async code (and the HTTP server's handlers) run on. A borrower waits
/// for a free connection at most `waitSeconds`; then it gets `StoreError.poolExhausted`
/// (the API's 503 `busy` with Retry-After), never a hang. With a `sessionRole` every
/// connection switches to that role as it opens (the service runs as `firebreak_service`,
/// never as the schema owner its login may be).
public final class ConnectionPool: Sendable {
    public static let connectionsMax = 64
    public static let waitSecondsDefault = 5.0

    /// A connection and the queue it is used on; exclusive to one borrower at a time.
    final class Pooled: @unchecked Sendable {
        let connection: Connection
        let queue: DispatchQueue

        init(connection: Connection, queue: DispatchQueue) {
            self.connection = connection
            self.queue = queue
        }
    }

    /// What a waiting borrower is handed: a connection, a freed slot to open one in, or
    /// nothing before its wait ran out.
    private enum Handover {
        case pooled(Pooled)
        case openSlot
        case timedOut
    }

    private struct State {
        var idle: [Pooled] = []
        var open = 0
        var waiters: [(ticket: UInt64, continuation: CheckedContinuation<Handover, Never>)] = []
        var tickets: UInt64 = 0
        /// `close()` was called: nothing is pooled or opened any more.
        var closed = false
    }

    public let conninfo: String
    public let size: Int
    public let waitSeconds: Double
    /// The role each connection becomes as it opens (`SET ROLE`); nil keeps the login's own.
    public let sessionRole: String?
    private let state = Mutex(State())

    public init(conninfo: String, size: Int = 4, waitSeconds: Double = waitSecondsDefault, sessionRole: String? = nil) {
        precondition(size >= 1 && size <= Self.connectionsMax, "pool size is validated by the caller")
        precondition(waitSeconds > 0, "the wait is validated by the caller")
        self.conninfo = conninfo
        self.size = size
        self.waitSeconds = waitSeconds
        self.sessionRole = sessionRole
    }

    /// Borrows a connection for `body`, run on that connection's own thread.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        let pooled = try await acquire()
        let trace = TraceContext.current  // the request's or job's trace follows its work onto the connection's thread
        let result: Result<T, Error> = await withCheckedContinuation { continuation in
            pooled.queue.async {
                continuation.resume(returning: TraceContext.$current.withValue(trace) { Result { try body(pooled.connection) } })
            }
        }
        release(pooled)
        return try result.get()
    }

    /// `withConnection` wrapped in a transaction with transaction-local `settings`.
    public func transaction<T: Sendable>(settings: [String: String] = [:],
                                         _ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await withConnection { connection in try connection.transaction(settings: settings, body) }
    }

    /// Closes the idle connections now and each borrowed one as it is handed back; a borrower
    /// from now on gets `connection_failed` (the pool is closed). For a server that stopped:
    /// its connections must not outlive it (PostgreSQL's `max_connections` is shared).
    public func close() {
        // Taken out under the lock, ended (PQfinish, as the last reference goes) outside it.
        var idle: [Pooled] = state.withLock { state in
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        idle.removeAll()
    }

    public var isClosed: Bool { state.withLock { $0.closed } }

    private func acquire() async throws -> Pooled {
        enum Next { case reuse(Pooled), open, wait, closed }
        let next: Next = state.withLock { state in
            if state.closed { return .closed }
            if let pooled = state.idle.popLast() { return .reuse(pooled) }
            if state.open < size { state.open += 1; return .open }
            return .wait
        }
        switch next {
        case .closed:
            throw StoreError(.connectionFailed, "the connection pool is closed (its server stopped)")
        case .reuse(let pooled):
            return pooled
        case .open:
            return try await open()
        case .wait:
            switch await waitForHandover() {
            case .pooled(let pooled): return pooled
            case .openSlot: return try await open()  // a broken connection was dropped: open a new one
            case .timedOut:
                throw StoreError(.poolExhausted, "all \(size) database connections stayed busy for \(waitSeconds) s")
            }
        }
    }

    /// Queues for the next released connection, at most `waitSeconds`.
    private func waitForHandover() async -> Handover {
        await withCheckedContinuation { continuation in
            let ticket: UInt64? = state.withLock { state in
                if let pooled = state.idle.popLast() { continuation.resume(returning: .pooled(pooled)); return nil }
                if state.open < size { state.open += 1; continuation.resume(returning: .openSlot); return nil }
                state.tickets += 1
                state.waiters.append((state.tickets, continuation))
                return state.tickets
            }
            guard let ticket else { return }
            DispatchQueue.global().asyncAfter(deadline: .now() + waitSeconds) { [self] in
                let expired = state.withLock { state -> CheckedContinuation<Handover, Never>? in
                    guard let index = state.waiters.firstIndex(where: { $0.ticket == ticket }) else { return nil }
                    return state.waiters.remove(at: index).continuation
                }
                expired?.resume(returning: .timedOut)
            }
        }
    }

    private func open() async throws -> Pooled {
        guard !isClosed else {
            drop()
            throw StoreError(.connectionFailed, "the connection pool is closed (its server stopped)")
        }
        let queue = DispatchQueue(label: "firebreak.store.connection")
        let conninfo = self.conninfo
        let role = sessionRole
        let result: Result<Pooled, Error> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result {
                    let connection = try Connection(conninfo)
                    if let role { try connection.query("SELECT set_config('role', $1, false)", [.text(role)]) }
                    return Pooled(connection: connection, queue: queue)
                })
            }
        }
        if case .failure = result { drop() }
        return try result.get()
    }

    private func release(_ pooled: Pooled) {
        guard pooled.connection.isReusable, !isClosed else { return drop() }
        let waiter: CheckedContinuation<Handover, Never>? = state.withLock { state in
            if state.waiters.isEmpty {
                state.idle.append(pooled)
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        waiter?.resume(returning: .pooled(pooled))
    }

    /// A connection is gone: free its slot, or let a waiter open a replacement.
    private func drop() {
        let waiter: CheckedContinuation<Handover, Never>? = state.withLock { state in
            if state.waiters.isEmpty {
                state.open -= 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        waiter?.resume(returning: .openSlot)
    }
}
