import FirebreakAPI
import Foundation

/// One `firebreak serve` child process on a loopback port over a shared PostgreSQL and
/// snapshot folder: what `bench replicas` starts, freezes (SIGSTOP), kills (SIGKILL) and
/// restarts. Its stderr goes to `<folder>/<name>.log`. Spawned with posix_spawn and reaped
/// with waitpid (Foundation's `Process` was seen to miss a child's exit once PostgreSQL
/// daemons had been started from the same process).
final class ReplicaProcess: @unchecked Sendable {
    static let readySecondsMax = 600.0
    static let stopSecondsMax = 20.0

    let name: String
    let port: Int
    let client: APIClient
    let logPath: String
    private let arguments: [String]
    private let token: String
    private var pid: pid_t = 0

    init(name: String, databaseURL: String, snapshotDirectory: String, token: String, folder: String) throws {
        self.name = name
        self.port = try freeLoopbackPort()
        self.token = token
        self.logPath = folder + "/\(name).log"
        self.client = APIClient(baseURL: "http://127.0.0.1:\(port)", token: token)
        self.arguments = ["serve", "--database-url", databaseURL, "--snapshot-dir", snapshotDirectory,
                          "--replica-id", name, "--port", String(port)]
    }

    var isRunning: Bool { pid != 0 }

    /// Starts the process (appending to its log).
    func start() throws {
        precondition(pid == 0, "\(name) is already running")
        let binary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        let environment = ProcessInfo.processInfo.environment.merging(["FIREBREAK_ADMIN_TOKEN": token]) { $1 }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        let spawned = posix_spawn(&pid, binary, &actions, nil, argv, envp)
        guard spawned == 0 else { throw BenchFailure("could not start \(name): posix_spawn error \(spawned)") }
    }

    /// Polls `/readyz` until it answers 200; the seconds it took from `since` (monotonic ns).
    func waitReady(since started: UInt64) async throws -> Double {
        while secondsSince(started) < Self.readySecondsMax {
            if let reply = try? await client.send("GET", "/readyz"), reply.status == 200 { return secondsSince(started) }
            guard isAlive else { throw BenchFailure("\(name) exited before it was ready; its log: \(logTail())") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchFailure("\(name) was not ready after \(Self.readySecondsMax) s; its log: \(logTail())")
    }

    /// This replica's `/readyz` body (applied and head positions).
    func readiness() async throws -> (ready: Bool, applied: Int64, head: Int64) {
        let reply = try await client.send("GET", "/readyz")
        let readiness = try reply.decoded(ReadinessBody.self)
        return (readiness.ready, readiness.appliedSeq, readiness.headSeq)
    }

    func signal(_ number: Int32) {
        if pid != 0 { kill(pid, number) }
    }

    /// kill -9, reaped.
    func crash() {
        guard pid != 0 else { return }
        kill(pid, SIGKILL)
        reap()
    }

    /// SIGTERM (in-flight requests finish), SIGKILL after `stopSecondsMax`.
    func stop() {
        guard pid != 0 else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(Self.stopSecondsMax)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { pid = 0; return }
            usleep(50_000)
        }
        crash()
    }

    /// The log lines that say how each collection was loaded at start-up.
    var loadLines: [String] {
        logText.split(separator: "\n").map(String.init).filter { $0.contains("loaded collection") }
    }

    private var isAlive: Bool {
        var status: Int32 = 0
        return pid != 0 && waitpid(pid, &status, WNOHANG) == 0
    }

    private func reap() {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        pid = 0
    }

    private var logText: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    private func logTail() -> String { String(logText.suffix(2_000)) }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's pick).
func freeLoopbackPort() throws -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw BenchFailure("socket() failed: errno \(errno)") }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
    }
    guard bound else { throw BenchFailure("could not find a free loopback port: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
