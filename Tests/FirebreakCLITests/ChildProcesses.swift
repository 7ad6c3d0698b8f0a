import Foundation
import XCTest

// The `firebreak` binary as a child process, shared by the CLI and kill -9 suites: run to
// completion, spawned and left running, or started as `serve` and waited for.

struct Run {
    let status: Int32
    let stdout: String
    let stderr: String
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]
    }
}

/// Runs the binary with posix_spawn and waitpid, output to temporary files. (Foundation's
/// `Process.waitUntilExit` was seen to miss a child's exit and hang once PostgreSQL
/// daemons had been started from this process.)
func firebreak(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
    let child = try spawn(arguments, environment: environment)
    defer { unlink(child.base + ".out"); unlink(child.base + ".err") }
    return child.wait()
}

/// A started `firebreak` process with its output files.
struct Child {
    let pid: pid_t
    let base: String
    func read(_ suffix: String) -> String { (try? String(contentsOfFile: base + suffix, encoding: .utf8)) ?? "" }
    func wait() -> Run {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Run(status: code, stdout: read(".out"), stderr: read(".err"))
    }
}

func spawn(_ arguments: [String], environment: [String: String] = [:]) throws -> Child {
    let binary = Bundle.main.bundleURL.appendingPathComponent("firebreak").path
    let base = NSTemporaryDirectory() + "firebreak-cli-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let argv = ([binary] + arguments).map { strdup($0) } + [nil]
    let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, binary, &actions, nil, argv, envp)
    guard spawned == 0 else { throw NSError(domain: "spawn", code: Int(spawned)) }
    return Child(pid: pid, base: base)
}

/// Starts `firebreak serve` on `data` and waits until it prints the URL it listens on.
func serve(data: String, token: String, arguments: [String] = [], environment: [String: String] = [:])
    throws -> (Child, String) {
    let server = try spawn(["serve", "--data-dir", data, "--port", "0"] + arguments,
                           environment: environment.merging(["FIREBREAK_ADMIN_TOKEN": token]) { $1 })
    for _ in 0..<240 {
        let err = server.read(".err")
        if let line = err.range(of: #"serving on http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
            return (server, String(err[line].dropFirst("serving on ".count)))
        }
        usleep(250_000)
    }
    kill(server.pid, SIGKILL)
    _ = server.wait()
    throw XCTSkip("serve did not start: \(server.read(".err"))")
}


/// Ends a `serve` started on `data` and what it left: the process (SIGKILL), its embedded
/// PostgreSQL, the folder.
func stopServing(_ server: Child, data: String) {
    kill(server.pid, SIGKILL)
    _ = server.wait()
    _ = try? firebreak(["db", "stop", "--data-dir", data])
    try? FileManager.default.removeItem(atPath: data)
}
