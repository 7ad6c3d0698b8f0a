import ArgumentParser
import Foundation
import VectorMath

/// `firebreak doctor`: what this machine gives Firebreak, and what is wrong with it.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Report the BLAS library in use and the sgemm GFLOP/s it reaches on this machine.",
        discussion: """
        Firebreak links -lblas; Debian's alternatives decide at run time whether that is OpenBLAS \
        (fast) or the Netlib reference BLAS (50-100x slower). Exact k-NN and HubScan lean on sgemm, \
        so a reference BLAS is reported as a problem (exit status 1 with --strict).
        """
    )

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: "Side of the square sgemm used for the measurement.")
    var size = 1024

    @Flag(help: "Exit with status 1 when a problem is found (reference BLAS).")
    var strict = false

    struct Report: Encodable {
        let blas: BLASReport
        let cores: Int
        let problems: [String]
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
        let problems = BLAS.referenceWarning.map { [$0] } ?? []
        let report = Report(
            blas: BLASReport(library: library.implementation.rawValue, path: library.path, config: library.config,
                             sgemmGflops: (all * 10).rounded() / 10, sgemmGflopsOneThread: (one * 10).rounded() / 10,
                             sgemmSize: size),
            cores: cores, problems: problems)
        if json {
            try Console.printJSON(report)
        } else {
            print("BLAS library:   \(library.implementation.rawValue)")
            print("  loaded from:  \(library.path)")
            if let config = library.config { print("  build:        \(config)") }
            print("sgemm \(size)³:     \(report.blas.sgemmGflops) GFLOP/s on \(cores) threads, "
                + "\(report.blas.sgemmGflopsOneThread) GFLOP/s on 1")
            print(problems.isEmpty ? "No problems found." : problems.joined(separator: "\n"))
        }
        if strict && !problems.isEmpty { throw ExitCode(1) }
    }
}
