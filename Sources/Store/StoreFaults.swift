/// A failpoint for tests at the one place a write can fail without saying whether it took
/// effect: COMMIT. A caller arms it on one connection (`Connection.armCommitFault`) for that
/// connection's next outermost COMMIT. Compiled in only for debug and FIREBREAK_INVARIANTS
/// builds; a release service build has no failpoint.
public enum CommitFault: Sendable {
    /// The server rolls back and says so (a definite failure).
    case refused
    /// The server commits but its answer never arrives (`commitUnknown`).
    case answerLost
}

extension Connection {
    #if DEBUG || FIREBREAK_INVARIANTS
    /// Makes this connection's next outermost COMMIT fail as `fault` says (one shot).
    public func armCommitFault(_ fault: CommitFault) { commitFault = fault }

    func takeCommitFault() -> CommitFault? {
        defer { commitFault = nil }
        return commitFault
    }
    #else
    @inline(__always) func takeCommitFault() -> CommitFault? { nil }
    #endif
}
