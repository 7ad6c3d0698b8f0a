/// Test-only failpoints at the seams of publishing a file. `nil` (the default) injects nothing;
/// a test sets one, saves, and checks that nothing half-written is left behind.
public enum FileFault: Sendable, Equatable {
    case write, fsync, rename
}

public enum FaultInjection {
    nonisolated(unsafe) public static var failing: FileFault?

    public static func fails(_ point: FileFault) -> Bool { failing == point }
}

