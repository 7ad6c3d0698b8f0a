import Dispatch

/// Long blocking work (file I/O, fsync) runs on a Dispatch thread, never on the Swift
/// concurrency pool, which has one thread per core (two here) and serves every request.
enum BlockingWork {
    /// `run` for work that cannot fail.
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async { continuation.resume(returning: body()) }
        }
    }

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .utility).async { continuation.resume(with: Result { try body() }) }
        }
    }
}
