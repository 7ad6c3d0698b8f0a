import FirebreakAPI
import Foundation
import ServiceBench
import XCTest

/// `bench service` in-process, small, through the `ServiceBench` library against a test server:
/// every phase answers, nothing quarantined is returned under load, no query fails during the
/// rebuild or the rollback, and the report has its figures. (`firebreak bench service` is
/// this plus printing; its speed is measured there, not here.)
final class ServiceBenchTests: XCTestCase {
    func testEveryPhaseRunsAndNothingQuarantinedIsServed() async throws {
        let harness = try await Harness.start(poolSize: 8)
        var settings = ServiceBench.Settings()
        settings.documents = 600
        settings.dimension = 16
        settings.tenants = 2
        settings.queries = 20
        settings.concurrency = 2
        settings.quarantines = 10
        settings.collection = "bench-\(UUID().uuidString.prefix(8).lowercased())"
        XCTAssertNil(settings.problem)
        let lines = ProgressLines()
        let report = try await ServiceBench(settings: settings, progress: lines.append).run(server: harness.server, client: harness.admin)
        try await harness.stop()

        XCTAssertEqual(report.quarantinedReturnedUnderLoad, 0)
        XCTAssertEqual(report.quarantines, 10)
        XCTAssertGreaterThan(report.searchesUnderLoad, 0)
        XCTAssertEqual(Set(report.search.keys), ["vector", "lexical", "hybrid"])
        for (mode, figures) in report.search {
            XCTAssertGreaterThan(figures.httpP50Ms, 0, mode)
            XCTAssertGreaterThan(figures.concurrentQPS, 0, mode)
        }
        XCTAssertEqual(report.rebuild.state, "succeeded", report.rebuild.error ?? "")
        XCTAssertEqual(report.rebuild.failedQueries, 0)
        XCTAssertEqual(report.rollback.failedQueries, 0)
        XCTAssertEqual(report.rollback.retired, ServiceBench.lateDocuments, "the documents ingested after the snapshot")
        XCTAssertEqual(report.rollback.documents, 600)
        XCTAssertTrue(lines.all.contains("ingested 600/600"), "\(lines.all)")
    }

    func testSettingsThatCannotRunAreNamed() {
        var settings = ServiceBench.Settings()
        settings.documents = 100
        settings.quarantines = 50
        XCTAssertEqual(settings.problem, "need documents ≥ 100, queries ≥ 10, concurrency ≥ 1 and 2·quarantines < documents")
    }
}

private final class ProgressLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var all: [String] { lock.withLock { lines } }
    func append(_ line: String) { lock.withLock { lines.append(line) } }
}
