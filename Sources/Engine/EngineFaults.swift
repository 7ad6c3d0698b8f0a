import Store

/// Failpoints for tests: an armed point makes the step it guards fail as PostgreSQL would.
/// Compiled in only for debug and FIREBREAK_INVARIANTS builds; release service builds have none.
enum EngineFault: Hashable, Sendable {
    /// The quarantine transaction fails after the filters were cleared.
    case quarantineStore
    /// The ingest's memory update fails after PostgreSQL committed the rows.
    case ingestIndex
    /// A rebuild waits before swapping its graph in, while armed (to observe the fallback).
    case rebuildBeforeSwap
    /// The ingest screen cannot score a batch.
    case ingestScreen
    /// A rebuilt graph answers every golden query wrong (its reciprocal ranks read 0).
    case goldenRegression
    /// The next write transaction's COMMIT is refused (rolled back, and said so).
    case commitRefused
    /// The next write transaction commits, but its answer is lost (`commit_unknown`).
    case commitAnswerLost
    /// Asking the record whether a lost COMMIT took effect fails too.
    case commitCheck
}

enum EngineFaults {
    #if DEBUG || FIREBREAK_INVARIANTS
    nonisolated(unsafe) static var armed: Set<EngineFault> = []
    static let lock = Mutex()

    static func arm(_ fault: EngineFault) { lock.locked { _ = armed.insert(fault) } }
    static func disarm(_ fault: EngineFault) { lock.locked { _ = armed.remove(fault) } }

    static func isArmed(_ fault: EngineFault) -> Bool { lock.locked { armed.contains(fault) } }

    static func check(_ fault: EngineFault) throws(EngineError) {
        if lock.locked({ armed.contains(fault) }) { throw EngineError(.storeFailed, "injected fault \(fault)") }
    }

    /// Arms the Store's COMMIT failpoint on `connection` when a commit fault is armed here
    /// (each is one shot: it is disarmed as it is handed on).
    static func armCommit(on connection: Connection) {
        lock.locked {
            if armed.remove(.commitRefused) != nil { connection.armCommitFault(.refused) }
            if armed.remove(.commitAnswerLost) != nil { connection.armCommitFault(.answerLost) }
        }
    }

    /// Waits while `fault` is armed (or until `until` says stop).
    static func hold(_ fault: EngineFault, until: () -> Bool) async throws {
        while lock.locked({ armed.contains(fault) }) && !until() { try await Task.sleep(for: .milliseconds(10)) }
    }
    #else
    @inline(__always) static func isArmed(_ fault: EngineFault) -> Bool { false }
    @inline(__always) static func check(_ fault: EngineFault) throws(EngineError) {}
    @inline(__always) static func armCommit(on connection: Connection) {}
    @inline(__always) static func hold(_ fault: EngineFault, until: () -> Bool) async throws {}
    #endif
}
