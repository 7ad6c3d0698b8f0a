import Foundation
import HNSW
import Store

/// This replica's place in the change log: every row at or below `appliedSeq` has been
/// applied; `startHead` is the head it saw when it started (it is not ready before reaching
/// it); `problem` names the row it could not apply (fail-stop: it never skips ahead).
public final class ReplicaPosition: @unchecked Sendable {
    public let name: String
    private let lock = Mutex()
    private var applied: Int64 = 0
    private var head: Int64?
    private var stopped: String?

    public init(name: String) {
        precondition(CollectionConfiguration.isValidName(name), "the replica name is validated by the caller")
        self.name = name
    }

    public var appliedSeq: Int64 { lock.locked { applied } }
    /// The head seen at start; nil until the first read of the log.
    public var startHead: Int64? { lock.locked { head } }
    public var problem: String? { lock.locked { stopped } }

    /// Caught up with the head seen at start, and applying.
    public var isReady: Bool {
        lock.locked { stopped == nil && head.map { applied >= $0 } == true }
    }

    func advance(to seq: Int64) { lock.locked { applied = max(applied, seq) } }

    func sawHead(_ seq: Int64) { lock.locked { if head == nil { head = seq } } }

    /// Stops progress for good (until a restart): the first reason is kept.
    func fail(_ reason: String) { lock.locked { if stopped == nil { stopped = reason } } }
}

/// A collection's own position: every change of the collection at or below it is applied.
/// Read by searches that demand a `min_seq`; advanced only by the apply path.
final class CollectionPosition: @unchecked Sendable {
    private let lock = Mutex()
    private var seq: Int64 = 0

    var value: Int64 { lock.locked { seq } }
    func advance(to next: Int64) { lock.locked { seq = max(seq, next) } }
}

/// The change-log positions of the writes a request made, so the HTTP layer can answer with
/// `seq` without every engine call returning it. Set as a task-local by the server around a
/// mutating request; `LiveCollections.write` records into it, and runs `inTransaction` as the
/// last statement of each write transaction (the server marks the request's idempotency key
/// committed there, so the key and the action commit together).
public final class WriteReceipt: @unchecked Sendable {
    @TaskLocal public static var current: WriteReceipt?
    private let lock = Mutex()
    private var last: Int64?
    private var didCommit = false
    private let inTransaction: (@Sendable (Connection, _ seq: Int64?) throws -> Void)?

    public init(inTransaction: (@Sendable (Connection, _ seq: Int64?) throws -> Void)? = nil) {
        self.inTransaction = inTransaction
    }

    /// The largest seq recorded (the position at which every effect of the request is visible).
    public var seq: Int64? { lock.locked { last } }

    /// Whether a write transaction of the request committed (its effect is in the record).
    public var committed: Bool { lock.locked { didCommit } }

    func record(_ seq: Int64) { lock.locked { last = max(last ?? seq, seq) } }

    func willCommit(on connection: Connection, seq: Int64?) throws { try inTransaction?(connection, seq) }

    func markCommitted() { lock.locked { didCommit = true } }
}

/// What a local writer already holds in memory for the change it appended, so applying its
/// own row does not read back what it just wrote. Another replica prepares the same from
/// PostgreSQL (or the snapshot store).
enum PreparedChange {
    /// The batch's documents by row id, and the vectors the writer staged (linking) for them.
    case documents([Int64: NewDocument], staged: [StagedVectors] = [])
    case restored([SnapshotLayout.Captured])
    case graph(HNSWIndex)
}
