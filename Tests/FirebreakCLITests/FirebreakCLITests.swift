import Foundation
import XCTest

/// Runs the built `firebreak` binary as a user would and checks its JSON contract.
final class FirebreakCLITests: XCTestCase {
    private struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
        var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]
        }
    }

    private func firebreak(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let binary = Bundle.main.bundleURL.appendingPathComponent("firebreak")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }

    func testDoctorReportsTheLoadedBLAS() throws {
        let run = try firebreak(["doctor", "--json", "--size", "128"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let blas = try XCTUnwrap(run.json?["blas"] as? [String: Any])
        XCTAssertNotNil(blas["library"] as? String)
        XCTAssertGreaterThan(try XCTUnwrap(blas["sgemm_gflops"] as? Double), 0)
        XCTAssertFalse((blas["path"] as? String ?? "unknown").contains("unknown"))
    }

    /// With the Netlib reference BLAS first on the loader's path (libblas-dev installs it beside
    /// OpenBLAS), doctor names it, warns, and fails under --strict; BLAS-heavy commands warn.
    func testReferenceBLASIsDetectedAndWarnedAbout() throws {
        let referenceFolder = "/usr/lib/x86_64-linux-gnu/blas"
        guard FileManager.default.fileExists(atPath: referenceFolder + "/libblas.so.3") else {
            throw XCTSkip("the Netlib reference BLAS is not installed at \(referenceFolder)")
        }
        let environment = ["LD_LIBRARY_PATH": referenceFolder]
        let doctor = try firebreak(["doctor", "--size", "64"], environment: environment)
        XCTAssertEqual(doctor.status, 0, doctor.stderr)
        XCTAssertTrue(doctor.stdout.contains("reference (Netlib)"), doctor.stdout)
        XCTAssertTrue(doctor.stdout.contains("WARNING"), doctor.stdout)
        let strict = try firebreak(["doctor", "--size", "64", "--strict"], environment: environment)
        XCTAssertEqual(strict.status, 1)
        let bench = try firebreak(["bench", "hnsw", "--synthetic", "500x8", "--ef-search", "16", "--repetitions", "1"],
                                  environment: environment)
        XCTAssertEqual(bench.status, 0, bench.stderr)
        XCTAssertTrue(bench.stderr.contains("WARNING: BLAS is the Netlib reference"), bench.stderr)
    }

    /// The benchmark's JSON contract, with 90 % excluded: k results, no excluded id, recall floor.
    func testBenchHNSWPrintsItsContractWithAFilter() throws {
        let run = try firebreak(["bench", "hnsw", "--synthetic", "3000x16", "--exclude-percent", "90",
                                 "--ef-search", "16,64", "--repetitions", "1", "--ef-construction", "100"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let json = try XCTUnwrap(run.json, run.stdout)
        for key in ["build_seconds", "build_threads", "index_bytes", "blas", "exact", "runs"] {
            XCTAssertNotNil(json[key], "missing \(key)")
        }
        let runs = try XCTUnwrap(json["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.map { $0["ef"] as? Int }, [16, 64])
        for run in runs {
            XCTAssertEqual(run["short_queries"] as? Int, 0)
            XCTAssertEqual(run["excluded_returned"] as? Int, 0)
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(run["recall"] as? Double), 0.95)
        }
        XCTAssertTrue(run.stderr.contains("built in"), "progress goes to stderr")
    }

    func testBadArgumentsFailWithAClearMessage() throws {
        let metric = try firebreak(["bench", "hnsw", "--synthetic", "100x4", "--metric", "hamming"])
        XCTAssertNotEqual(metric.status, 0)
        XCTAssertTrue(metric.stderr.contains("--metric"), metric.stderr)
        let missing = try firebreak(["bench", "hnsw", "--base", "/nonexistent.npy", "--queries", "/nonexistent.npy"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("no such file"), missing.stderr)
        let both = try firebreak(["bench", "hnsw"])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("--synthetic"), both.stderr)
    }
}
