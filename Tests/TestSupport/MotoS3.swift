import Foundation
import XCTest

/// A real S3-compatible server for the tests: `scripts/moto-s3` (moto's S3 with signature
/// checking on) started once per test process on a free loopback port, from the virtualenv
/// `scripts/python-tools` makes (`.venv-tools`, or the Python in `FIREBREAK_TOOLS_PYTHON`).
/// Stopped when the test bundle finishes.
public enum MotoS3 {
    public struct Server: Sendable {
        public let endpoint: URL
        public let bucket: String
        public let region: String
        public let accessKeyID: String
        public let secretAccessKey: String
    }

    nonisolated(unsafe) private static var started: (server: Server, process: Process, stdin: Pipe)?
    private static let lock = NSLock()

    public static func shared() throws -> Server {
        lock.lock()
        defer { lock.unlock() }
        if let started { return started.server }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let python = ProcessInfo.processInfo.environment["FIREBREAK_TOOLS_PYTHON"]
            ?? repository.appendingPathComponent(".venv-tools/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw Failure("no Python with moto at \(python): run scripts/python-tools (scripts/test does)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [repository.appendingPathComponent("scripts/moto-s3").path, "--port", "0"]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        guard let line = readLine(stdout.fileHandleForReading), let data = line.data(using: .utf8),
              let fields = try JSONSerialization.jsonObject(with: data) as? [String: String],
              let endpoint = fields["endpoint"].flatMap(URL.init(string:)), let bucket = fields["bucket"],
              let region = fields["region"], let id = fields["access_key_id"], let secret = fields["secret_access_key"] else {
            process.terminate()
            throw Failure("scripts/moto-s3 did not start (is moto installed? scripts/python-tools)")
        }
        let server = Server(endpoint: endpoint, bucket: bucket, region: region, accessKeyID: id, secretAccessKey: secret)
        started = (server, process, stdin)
        XCTestObservationCenter.shared.addTestObserver(Stopper())
        return server
    }

    private static func readLine(_ handle: FileHandle) -> String? {
        var bytes: [UInt8] = []
        while bytes.count < 4_096 {
            let chunk = handle.readData(ofLength: 1)
            guard let byte = chunk.first else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return nil
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Closes moto's stdin (it exits), then kills it and reaps it with `waitpid`: Foundation's
    /// `waitUntilExit` was seen to hang here, as it does in the CLI tests.
    final class Stopper: NSObject, XCTestObservation {
        func testBundleDidFinish(_ testBundle: Bundle) {
            guard let started = MotoS3.started else { return }
            try? started.stdin.fileHandleForWriting.close()
            let pid = started.process.processIdentifier
            for _ in 0..<20 {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) != 0 { return }
                usleep(50_000)
            }
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }
}
