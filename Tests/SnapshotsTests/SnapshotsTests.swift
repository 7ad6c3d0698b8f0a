import DurableFile
import Foundation
import Snapshots
import XCTest

final class SnapshotsTests: XCTestCase {
    private var root = ""

    override func setUp() {
        root = NSTemporaryDirectory() + "firebreak-snapshots-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDown() {
        FaultInjection.failing = nil
        try? FileManager.default.removeItem(atPath: root)
    }

    private func manifest(_ id: String, parent: String? = nil) -> SnapshotManifest {
        SnapshotManifest(id: id, collection: "docs", parent: parent, documents: 2, dimension: 3, metric: "cosine",
                         index: .init(m: 16, efConstruction: 200, efSearch: 64), analyzer: "alnum+nfkc+stop+porter2@1")
    }

    private func publish(_ folder: SnapshotFolder, _ id: String, payload: String = "graph") throws -> SnapshotManifest {
        try folder.publish(manifest(id)) { dir in
            try Data(payload.utf8).write(to: URL(fileURLWithPath: dir + "/graph.fbhnsw"))
            try Data("ids".utf8).write(to: URL(fileURLWithPath: dir + "/ids.json"))
        }
    }

    private func assertRefused(_ code: SnapshotError.Code, file expected: String?, _ folder: SnapshotFolder, _ id: String,
                               line: UInt = #line) {
        do {
            _ = try folder.verify(id: id)
            XCTFail("verification should fail with \(code)", line: line)
        } catch {
            XCTAssertEqual(error.code, code, error.description, line: line)
            XCTAssertEqual(error.file, expected, error.description, line: line)
        }
    }

    func testPublishThenVerify() throws {
        let folder = SnapshotFolder(root: root)
        let published = try publish(folder, "s1")
        XCTAssertEqual(published.files.map(\.name), ["graph.fbhnsw", "ids.json"])
        XCTAssertEqual(published.files[1].bytes, 3)
        XCTAssertEqual(published.files[1].sha256, "23466067f626bf8a3ae1a39cdf81f31303220b331b5064c6e00662dcc34deaaf")  // sha256("ids")
        XCTAssertEqual(published.rootHash.count, 64)
        XCTAssertEqual(try folder.verify(id: "s1"), published)
        XCTAssertEqual(folder.ids(), ["s1"])
        XCTAssertThrowsError(try publish(folder, "s1")) { XCTAssertEqual(($0 as? SnapshotError)?.code, .alreadyExists) }
        XCTAssertThrowsError(try publish(folder, "../escape")) { XCTAssertEqual(($0 as? SnapshotError)?.code, .invalidInput) }
    }

    func testEveryKindOfTamperingIsRefusedNamingTheFile() throws {
        let folder = SnapshotFolder(root: root)
        _ = try publish(folder, "s1")
        let dir = folder.path(of: "s1")
        // A flipped byte in a segment.
        try Data("grapH".utf8).write(to: URL(fileURLWithPath: dir + "/graph.fbhnsw"))
        assertRefused(.hashMismatch, file: "graph.fbhnsw", folder, "s1")
        // A truncated segment.
        try Data("gr".utf8).write(to: URL(fileURLWithPath: dir + "/graph.fbhnsw"))
        assertRefused(.sizeMismatch, file: "graph.fbhnsw", folder, "s1")
        // A missing segment.
        try FileManager.default.removeItem(atPath: dir + "/graph.fbhnsw")
        assertRefused(.missingFile, file: "graph.fbhnsw", folder, "s1")
        // A planted file.
        _ = try publish(folder, "s2")
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder.path(of: "s2") + "/planted.bin"))
        assertRefused(.unexpectedFile, file: "planted.bin", folder, "s2")
        // An edited manifest (the recorded hash of a file rewritten to match a new file).
        _ = try publish(folder, "s3")
        let manifestPath = folder.path(of: "s3") + "/manifest.json"
        let text = try String(contentsOfFile: manifestPath, encoding: .utf8)
        try text.replacingOccurrences(of: "\"documents\" : 2", with: "\"documents\" : 3")
            .write(toFile: manifestPath, atomically: true, encoding: .utf8)
        assertRefused(.hashMismatch, file: "manifest.json", folder, "s3")
        try "{ not json".write(toFile: manifestPath, atomically: true, encoding: .utf8)
        assertRefused(.manifestInvalid, file: "manifest.json", folder, "s3")
        assertRefused(.notFound, file: nil, folder, "nope")
    }

    /// A failure at fsync or at the rename leaves the previous snapshot serving and no
    /// half-written snapshot visible; a failing writer likewise.
    func testInjectedFaultsPublishNothing() throws {
        let folder = SnapshotFolder(root: root)
        let previous = try publish(folder, "s1")
        for fault in [FileFault.fsync, .rename, .write] {
            FaultInjection.failing = fault
            XCTAssertThrowsError(try publish(folder, "s2"), "\(fault)")
            FaultInjection.failing = nil
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), ["s1"], "\(fault)")
            XCTAssertEqual(try folder.verify(id: "s1"), previous)
        }
        struct WriterFailed: Error {}
        XCTAssertThrowsError(try folder.publish(manifest("s2")) { _ in throw WriterFailed() })
        XCTAssertEqual(folder.ids(), ["s1"])
        XCTAssertEqual(try publish(folder, "s2").id, "s2")
    }
}

final class SnapshotStatusTests: XCTestCase {
    func testLifecycleAndRetentionRule() {
        XCTAssertEqual(SnapshotStatus.building.allowedNext, [.published, .retired])
        XCTAssertEqual(SnapshotStatus.published.allowedNext, [.verifiedClean, .retired])
        XCTAssertEqual(SnapshotStatus.verifiedClean.allowedNext, [.retired])
        XCTAssertTrue(SnapshotStatus.retired.allowedNext.isEmpty)
        XCTAssertTrue(SnapshotStatus.mayRetire(.verifiedClean, referencedByOpenIncident: false))
        XCTAssertFalse(SnapshotStatus.mayRetire(.verifiedClean, referencedByOpenIncident: true))
        XCTAssertTrue(SnapshotStatus.mayRetire(.published, referencedByOpenIncident: true))
        XCTAssertFalse(SnapshotStatus.mayRetire(.retired, referencedByOpenIncident: false))
        XCTAssertFalse(SnapshotStatus.mayRetire(.published, referencedByOpenIncident: false, heldAsForensicEvidence: true),
                       "an open incident's forensic snapshot is kept whatever its status")
    }
}
