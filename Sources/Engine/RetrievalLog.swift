import Foundation
import Store

/// Buffers what every search served and writes it to the retrieval log in batches, off the
/// search path: a search only appends to memory. The buffer is bounded; when PostgreSQL falls
/// behind and it is full, new entries are dropped and counted (`dropped`), never the search.
public final class RetrievalLog: @unchecked Sendable {
    /// Entries held in memory at most.
    public static let pendingMax = 200_000
    /// How often the flusher writes.
    public static let flushIntervalMilliseconds = 500
    /// Entries older than this are deleted by the flusher (checked hourly).
    public static let retentionDays = 30
    static let pruneIntervalSeconds = 3_600.0

    private let pool: ConnectionPool
    private let lock = Mutex()
    private var pending: [RetrievalRecord] = []
    private var droppedCount = 0
    private var lastPrune = Date.distantPast
    private var flusher: Task<Void, Never>?
    /// Flushes running, by ticket: a flush waits for those with smaller tickets.
    private var inFlight: Set<Int> = []
    private var nextTicket = 0

    init(pool: ConnectionPool) {
        self.pool = pool
    }

    /// 32 lower-case hex digits: a W3C trace id for a request that brought none.
    static func newTraceID() -> String {
        (0..<2).map { _ in String(UInt64.random(in: 1...UInt64.max), radix: 16).leftPadded(to: 16) }.joined()
    }

    /// Entries dropped because the buffer was full.
    public var dropped: Int { lock.locked { droppedCount } }

    func append(_ record: RetrievalRecord) {
        lock.locked {
            guard pending.count < Self.pendingMax else {
                droppedCount += 1
                return
            }
            pending.append(record)
        }
    }

    /// Writes everything buffered so far, and returns only when every entry appended before
    /// the call is stored (a flush already running with older entries is waited for).
    /// Entries that fail to write go back to the buffer.
    public func flush() async throws(EngineError) {
        let (ticket, batch) = lock.locked { () -> (Int, [RetrievalRecord]) in
            defer { pending.removeAll(keepingCapacity: true) }
            nextTicket += 1
            inFlight.insert(nextTicket)
            return (nextTicket, pending)
        }
        defer { lock.locked { _ = inFlight.remove(ticket) } }
        if !batch.isEmpty {
            do {
                try await pool.withConnection { try RetrievalLogRecords.insert(batch, on: $0) }
            } catch {
                lock.locked { pending.insert(contentsOf: batch.suffix(Self.pendingMax - min(pending.count, Self.pendingMax)), at: 0) }
                throw LiveCollection.mapped(error)
            }
        }
        while lock.locked({ inFlight.contains { $0 < ticket } }) {
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Starts the background flusher (and hourly retention) until `stop()`.
    public func start() {
        lock.locked {
            guard flusher == nil else { return }
            flusher = Task.detached { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(Self.flushIntervalMilliseconds))
                    try? await flush()
                    await pruneIfDue()
                }
            }
        }
    }

    /// Stops the flusher after a last flush.
    public func stop() async {
        let task = lock.locked { () -> Task<Void, Never>? in defer { flusher = nil }; return flusher }
        task?.cancel()
        try? await flush()
    }

    private func pruneIfDue() async {
        let due = lock.locked { () -> Bool in
            guard Date().timeIntervalSince(lastPrune) >= Self.pruneIntervalSeconds else { return false }
            lastPrune = Date()
            return true
        }
        guard due else { return }
        _ = try? await pool.withConnection { try RetrievalLogRecords.prune(olderThanDays: Self.retentionDays, on: $0) }
        // The same hourly pass removes expired idempotency keys (the other record kept for a while).
        _ = try? await pool.withConnection { try IdempotencyRecords.removeExpired(on: $0) }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
