import ArgumentParser
import Foundation
import Snapshots
import VectorMath

/// `firebreak doctor`: what this machine gives Firebreak, and what is wrong with it.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Report the BLAS library in use and the sgemm GFLOP/s it reaches, and check the snapshot store.",
        discussion: """
        Firebreak links -lblas; Debian's alternatives decide at run time whether that is OpenBLAS \
        (fast) or the Netlib reference BLAS (50-100x slower). Exact k-NN and HubScan lean on sgemm, \
        so a reference BLAS is reported as a problem (exit status 1 with --strict). With \
        --snapshot-store it also writes, reads back and deletes a small object there (a folder or \
        s3://BUCKET/PREFIX): an unreachable or read-only store is a problem too.
        """
    )

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: "Side of the square sgemm used for the measurement.")
    var size = 1024

    @Flag(help: "Exit with status 1 when a problem is found (reference BLAS, an unusable snapshot store).")
    var strict = false

    @OptionGroup var snapshots: SnapshotStoreOptions

    struct Report: Encodable {
        let blas: BLASReport
        let cores: Int
        let snapshotStore: StoreReport?
        let problems: [String]
    }

    struct StoreReport: Encodable {
        let location: String
        let ok: Bool
        let detail: String
    }

    struct BLASReport: Encodable {
        let library: String
        let path: String
        let config: String?
        let sgemmGflops: Double
        let sgemmGflopsOneThread: Double
        let sgemmSize: Int
    }

    func run() throws {
        guard (64...8192).contains(size) else {
            throw ValidationError("--size must be in 64...8192")
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let library = BLAS.library
        let all = BLAS.measureSgemmGFLOPs(size: size, threads: cores)
        let one = BLAS.measureSgemmGFLOPs(size: size, threads: 1, repetitions: 3)
        var problems = BLAS.referenceWarning.map { [$0] } ?? []
        let store = try checkSnapshotStore()
        if let store, !store.ok { problems.append("snapshot store \(store.location): \(store.detail)") }
        let report = Report(
            blas: BLASReport(library: library.implementation.rawValue, path: library.path, config: library.config,
                             sgemmGflops: (all * 10).rounded() / 10, sgemmGflopsOneThread: (one * 10).rounded() / 10,
                             sgemmSize: size),
            cores: cores, snapshotStore: store, problems: problems)
        if json {
            try Console.printJSON(report)
        } else {
            print("BLAS library:   \(library.implementation.rawValue)")
            print("  loaded from:  \(library.path)")
            if let config = library.config { print("  build:        \(config)") }
            if let store { print("snapshot store: \(store.ok ? store.detail : "UNUSABLE " + store.location)") }
            print("sgemm \(size)³:     \(report.blas.sgemmGflops) GFLOP/s on \(cores) threads, "
                + "\(report.blas.sgemmGflopsOneThread) GFLOP/s on 1")
            print(problems.isEmpty ? "No problems found." : problems.joined(separator: "\n"))
        }
        if strict && !problems.isEmpty { throw ExitCode(1) }
    }

    /// The probe of the store named by --snapshot-store (or FIREBREAK_SNAPSHOT_STORE), nil when none is.
    private func checkSnapshotStore() throws -> StoreReport? {
        let environment = ProcessInfo.processInfo.environment
        guard snapshots.snapshotStore != nil || snapshots.snapshotDir != nil || environment["FIREBREAK_SNAPSHOT_STORE"] != nil
        else { return nil }
        let store = try snapshots.store(defaultFolder: "")
        do {
            return StoreReport(location: store.location, ok: true, detail: try store.probe())
        } catch {
            return StoreReport(location: store.location, ok: false, detail: "\(error)")
        }
    }
}
