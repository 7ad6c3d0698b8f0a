import Foundation
import Store

/// Failpoints for tests: an armed point makes the step it guards fail as PostgreSQL would.
/// Compiled in only for debug and FIREBREAK_INVARIANTS builds; release service builds have none.
enum EngineFault: String, Hashable, Sendable, CaseIterable {
    /// The quarantine transaction fails after the filters were cleared.
    case quarantineStore
    /// The ingest's memory update fails after PostgreSQL committed the rows.
    case ingestIndex
    /// A rebuild waits before swapping its graph in, while armed (to observe the fallback).
    case rebuildBeforeSwap
    /// A rebuild waits after publishing its graph file and before appending its swap, while
    /// armed (where a `kill -9` tests the swap; says so on stderr when it gets there).
    case rebuildMidSwap
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
        if isArmed(fault) { FileHandle.standardError.write(Data("firebreak fault: holding at \(fault.rawValue)\n".utf8)) }
        while lock.locked({ armed.contains(fault) }) && !until() { try await Task.sleep(for: .milliseconds(10)) }
    }
    static let compiledIn = true
    #else
    static let compiledIn = false
    @inline(__always) static func isArmed(_ fault: EngineFault) -> Bool { false }
    @inline(__always) static func check(_ fault: EngineFault) throws(EngineError) {}
    @inline(__always) static func armCommit(on connection: Connection) {}
    @inline(__always) static func hold(_ fault: EngineFault, until: () -> Bool) async throws {}
    #endif
}

/// Failpoints armed by name from the environment, for tests that drive a `firebreak serve`
/// process (`FIREBREAK_FAULTS=rebuildMidSwap,…`). Release service builds have none.
public enum FaultInjection {
    public static let environmentVariable = "FIREBREAK_FAULTS"

    /// Arms the failpoints `environment` names; returns their names. Throws for a name that
    /// is not a failpoint, or when this build has none compiled in.
    public static func armFromEnvironment(_ environment: [String: String]) throws(EngineError) -> [String] {
        guard let list = environment[environmentVariable], !list.isEmpty else { return [] }
        guard EngineFaults.compiledIn else {
            throw EngineError(.invalidInput, "\(environmentVariable) is set, but this build has no failpoints (they exist in debug and FIREBREAK_INVARIANTS builds)")
        }
        let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var faults: [EngineFault] = []
        for name in names {
            guard let fault = EngineFault(rawValue: name) else {
                throw EngineError(.invalidInput, "\(environmentVariable): no failpoint \(name) (there are \(EngineFault.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            faults.append(fault)
        }
        #if DEBUG || FIREBREAK_INVARIANTS
        faults.forEach(EngineFaults.arm)
        #endif
        return faults.map(\.rawValue)
    }
}
