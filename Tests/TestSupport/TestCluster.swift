import Foundation
import Store
import XCTest

/// One throwaway PostgreSQL cluster per test process (every test target shares it: on Linux
/// they all run in one process), started by the tests themselves
/// through the same launcher the service uses (as the postgres user when run as root).
public enum TestCluster {
    nonisolated(unsafe) private static var started: EmbeddedPostgres?
    nonisolated(unsafe) private static var failure: StoreError?

    public static func shared() throws -> EmbeddedPostgres {
        if let failure { throw failure }
        if let started { return started }
        let folder = "\(folderPrefix)\(getpid())"
        stopOrphans()
        do {
            let cluster = try EmbeddedPostgres(dataDirectory: folder, durable: false)
            try cluster.start()
            try Migrator.migrate(Connection(cluster.conninfo()))
            started = cluster
            XCTestObservationCenter.shared.addTestObserver(ClusterStopper())
            return cluster
        } catch let error as StoreError {
            failure = error
            throw error
        }
    }

    static let folderPrefix = "/tmp/firebreak-store-tests-"

    /// Clusters left by a test process that crashed: stop them and remove their folders.
    private static func stopOrphans() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        for name in names where name.hasPrefix("firebreak-store-tests-") {
            guard let pid = Int32(name.dropFirst("firebreak-store-tests-".count)), kill(pid, 0) != 0 else { continue }
            try? EmbeddedPostgres(dataDirectory: "/tmp/" + name, durable: false).stop()
            try? FileManager.default.removeItem(atPath: "/tmp/" + name)
        }
    }

    /// Stops the cluster and removes its folder when the test bundle finishes.
    final class ClusterStopper: NSObject, XCTestObservation {
        func testBundleDidFinish(_ testBundle: Bundle) {
            try? TestCluster.started?.stop()
            try? FileManager.default.removeItem(atPath: "\(TestCluster.folderPrefix)\(getpid())")
        }
    }

    public static func owner() throws -> Connection { try Connection(shared().conninfo()) }
    public static func reader() throws -> Connection { try Connection(shared().conninfo(user: "firebreak_reader")) }
}

public func XCTAssertStoreError(_ code: StoreError.Code, sqlstate: String? = nil, file: StaticString = #filePath,
                         line: UInt = #line, _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected \(code), nothing was thrown", file: file, line: line)
    } catch let error as StoreError {
        XCTAssertEqual(error.code, code, error.description, file: file, line: line)
        if let sqlstate { XCTAssertEqual(error.sqlstate, sqlstate, error.description, file: file, line: line) }
    } catch {
        XCTFail("expected StoreError.\(code), got \(error)", file: file, line: line)
    }
}

/// `XCTAssertEqual` for an expression that awaits (XCTest's autoclosures cannot).
public func assertEqual<T: Equatable>(_ actual: @autoclosure () async throws -> T, _ expected: @autoclosure () -> T,
                                      _ message: String = "", file: StaticString = #filePath, line: UInt = #line) async {
    do {
        let value = try await actual()
        XCTAssertEqual(value, expected(), message, file: file, line: line)
    } catch {
        XCTFail("threw \(error) \(message)", file: file, line: line)
    }
}
