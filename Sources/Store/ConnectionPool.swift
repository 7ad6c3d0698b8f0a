import Dispatch
import Synchronization

/// A bounded pool of libpq connections. Each connection has its own serial dispatch queue,
/// and a caller's block runs there: libpq's blocking calls occupy those threads, never the
/// cooperative pool that async code (and the HTTP server's handlers) run on.
public final class ConnectionPool: Sendable {
    public static let connectionsMax = 64

    /// A connection and the queue it is used on; exclusive to one borrower at a time.
    final class Pooled: @unchecked Sendable {
        let connection: Connection
        let queue: DispatchQueue

        init(connection: Connection, queue: DispatchQueue) {
            self.connection = connection
            self.queue = queue
        }
    }

    private struct State {
        var idle: [Pooled] = []
        var open = 0
        var waiters: [CheckedContinuation<Pooled?, Never>] = []
    }

    public let conninfo: String
    public let size: Int
    private let state = Mutex(State())

    public init(conninfo: String, size: Int = 4) {
        precondition(size >= 1 && size <= Self.connectionsMax, "pool size is validated by the caller")
        self.conninfo = conninfo
        self.size = size
    }

    /// Borrows a connection for `body`, run on that connection's own thread.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        let pooled = try await acquire()
        let result: Result<T, Error> = await withCheckedContinuation { continuation in
            pooled.queue.async { continuation.resume(returning: Result { try body(pooled.connection) }) }
        }
        release(pooled)
        return try result.get()
    }

    /// `withConnection` wrapped in a transaction with transaction-local `settings`.
    public func transaction<T: Sendable>(settings: [String: String] = [:],
                                         _ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await withConnection { connection in try connection.transaction(settings: settings, body) }
    }

    private func acquire() async throws -> Pooled {
        enum Next { case reuse(Pooled), open, wait }
        let next: Next = state.withLock { state in
            if let pooled = state.idle.popLast() { return .reuse(pooled) }
            if state.open < size { state.open += 1; return .open }
            return .wait
        }
        switch next {
        case .reuse(let pooled):
            return pooled
        case .open:
            return try await open()
        case .wait:
            let handedOver = await withCheckedContinuation { continuation in
                let immediate: Pooled?? = state.withLock { state in
                    if let pooled = state.idle.popLast() { return .some(pooled) }
                    if state.open < size { state.open += 1; return .some(nil) }
                    state.waiters.append(continuation)
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
            // nil: a slot was freed (a broken connection was dropped); open a new one.
            if let handedOver { return handedOver }
            return try await open()
        }
    }

    private func open() async throws -> Pooled {
        let queue = DispatchQueue(label: "firebreak.store.connection")
        let conninfo = self.conninfo
        let result: Result<Pooled, Error> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { Pooled(connection: try Connection(conninfo), queue: queue) })
            }
        }
        if case .failure = result { drop() }
        return try result.get()
    }

    private func release(_ pooled: Pooled) {
        guard pooled.connection.isHealthy else { return drop() }
        let waiter: CheckedContinuation<Pooled?, Never>? = state.withLock { state in
            if state.waiters.isEmpty {
                state.idle.append(pooled)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: pooled)
    }

    /// A connection is gone: free its slot, or let a waiter open a replacement.
    private func drop() {
        let waiter: CheckedContinuation<Pooled?, Never>? = state.withLock { state in
            if state.waiters.isEmpty {
                state.open -= 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: nil)
    }
}
