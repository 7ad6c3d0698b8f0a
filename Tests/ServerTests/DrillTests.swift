import Drills
import FirebreakAPI
import Foundation
import XCTest

/// The game day in-process, small, through the `Drills` library against a real server:
/// every hub found, nothing quarantined returned, no query failed, MRR back, rollback done,
/// incident resolved, postmortem written. (`firebreak drill` is this plus printing.)
final class DrillTests: XCTestCase {
    func testDrillRunsTheGameDayEndToEnd() async throws {
        let harness = try await Harness.start(poolSize: 8)
        let folder = NSTemporaryDirectory() + "firebreak-drill-\(getpid())-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var settings = Drill.Settings()
        settings.documents = 800
        settings.topics = 16
        settings.goldenQueries = 40
        settings.clients = 2
        settings.postmortemDir = folder
        let steps = StepLog()
        let report = try await Drill(settings: settings, client: harness.admin, progress: steps.append).run()
        try await harness.stop()

        XCTAssertEqual(report.failedChecks, [], report.readable)
        XCTAssertEqual(report.hubsDetected, 5)
        XCTAssertEqual(report.quarantinedReturned, 0)
        XCTAssertEqual(report.failedQueries, 0)
        XCTAssertGreaterThan(report.queriesAnswered, 0)
        XCTAssertEqual(report.incidentStatus, "resolved")
        XCTAssertNotNil(report.rollbackSeconds)
        let postmortem = try String(contentsOfFile: try XCTUnwrap(report.postmortemPath), encoding: .utf8)
        XCTAssertTrue(postmortem.contains("rollback"), postmortem)
        XCTAssertTrue(steps.lines.contains { $0.hasPrefix("planted 5 hubs") }, "\(steps.lines)")

        // What `--json` prints: snake_case, with the checks that failed (none).
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let printed = try JSONDecoder().decode(JSONValue.self, from: try encoder.encode(report))
        guard case .object(let fields) = printed else { return XCTFail("the report is not an object") }
        XCTAssertEqual(fields["hubs_detected"], .number(5))
        XCTAssertEqual(fields["failed_checks"], .array([]))
        XCTAssertNotNil(fields["mrr_at_10"])
    }

    /// A step the service refuses is a typed error naming the request, not a half-filled report.
    func testARefusedStepIsATypedError() async throws {
        let harness = try await Harness.start()
        var settings = Drill.Settings()
        settings.documents = 200
        settings.goldenQueries = 10
        settings.topics = 4
        settings.hubs = 1
        let reader = try await harness.token("reader")
        do {
            _ = try await Drill(settings: settings, client: reader).run()
            XCTFail("a reader's drill must be refused")
        } catch let error as DrillError {
            XCTAssertEqual(error.code, .refused)
            XCTAssertTrue(error.message.contains("POST /v1/collections") && error.message.contains("403"), error.message)
        }
        try await harness.stop()
    }
}

/// The drill's progress lines, collected from its (concurrent) callbacks.
final class StepLog: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [String] = []
    var lines: [String] { lock.withLock { collected } }
    func append(_ line: String) { lock.withLock { collected.append(line) } }
}
