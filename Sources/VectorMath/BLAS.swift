import CBLAS
import CFirebreakSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation

/// The bridge to cblas. Firebreak links `-lblas` (Debian's libblas-dev); which implementation
/// answers is decided at run time by the dynamic loader (Debian alternatives): OpenBLAS when
/// `libopenblas0-pthread` is installed, otherwise the slow Netlib reference BLAS.
///
/// Threading policy: Firebreak parallelises itself (one BLAS call per worker thread), so OpenBLAS
/// is pinned to one thread per call unless a caller asks otherwise (`withThreads`), which avoids
/// 2 × cores threads fighting over 2 cores.
public enum BLAS {
    public enum Implementation: String, Sendable, Codable {
        case openBLAS = "OpenBLAS"
        case reference = "reference (Netlib)"
        case other = "other"
    }

    /// What the loader bound `cblas_sgemm` to.
    public struct LibraryInfo: Sendable, Codable, Equatable {
        public let implementation: Implementation
        /// The shared object file, with symlinks (alternatives) resolved.
        public let path: String
        /// OpenBLAS's own build description (`openblas_get_config`), when available.
        public let config: String?

        public var isReference: Bool { implementation == .reference }
    }

    /// Detects the loaded BLAS once per process.
    public static let library: LibraryInfo = detect()

    /// The warning every BLAS-heavy command prints when the reference BLAS answers.
    public static var referenceWarning: String? {
        guard library.isReference else { return nil }
        return """
        WARNING: BLAS is the Netlib reference implementation (\(library.path)), typically 50-100x \
        slower than OpenBLAS. Install it: apt-get install libopenblas0-pthread
        """
    }

    private typealias SetThreads = @convention(c) (Int32) -> Void
    private typealias GetThreads = @convention(c) () -> Int32
    private typealias GetConfig = @convention(c) () -> UnsafePointer<CChar>?

    private static func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)
    }

    private static func detect() -> LibraryInfo {
        // Touch cblas_sgemm through dlsym so dladdr can name the object that provides it.
        var path = "unknown"
        if let address = symbol("cblas_sgemm") {
            if let name = fb_shared_object_path(address) {
                if let resolved = realpath(name, nil) {
                    path = String(cString: resolved)
                    free(resolved)
                } else {
                    path = String(cString: name)
                }
            }
        }
        if let configSymbol = symbol("openblas_get_config") {
            let getConfig = unsafeBitCast(configSymbol, to: GetConfig.self)
            let config = getConfig().map { String(cString: $0) }
            return LibraryInfo(implementation: .openBLAS, path: path, config: config)
        }
        let looksReference = path.contains("/blas/libblas") || path.contains("libblas.so") && !path.contains("openblas")
        return LibraryInfo(implementation: looksReference ? .reference : .other, path: path, config: nil)
    }

    /// Sets OpenBLAS's thread count (no-op for other implementations).
    public static func setThreads(_ count: Int) {
        guard let pointer = symbol("openblas_set_num_threads") else { return }
        unsafeBitCast(pointer, to: SetThreads.self)(Int32(max(1, count)))
    }

    /// OpenBLAS's current thread count, or 1 for implementations without threads.
    public static var threads: Int {
        guard let pointer = symbol("openblas_get_num_threads") else { return 1 }
        return Int(unsafeBitCast(pointer, to: GetThreads.self)())
    }

    /// Pins BLAS to one thread per call: Firebreak's own workers provide the parallelism.
    public static func useCallerParallelism() { setThreads(1) }

    /// C (m×n) = A (m×k) · Bᵀ, with A and B row-major (B is n×k): the dot products of every
    /// row of A with every row of B. `c` must hold m·n floats.
    @inline(__always)
    public static func dotProducts(_ a: UnsafePointer<Float>, rowsA m: Int,
                                   _ b: UnsafePointer<Float>, rowsB n: Int, dimension k: Int,
                                   into c: UnsafeMutablePointer<Float>) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                    1, a, Int32(k), b, Int32(k), 0, c, Int32(n))
    }

    /// Measures sgemm GFLOP/s on square `size` matrices with `threads` BLAS threads: the best of
    /// `repetitions` runs (machines are noisy; the best run is the closest to the hardware limit).
    /// Restores caller parallelism (1 thread) afterwards.
    public static func measureSgemmGFLOPs(size: Int = 1024, threads: Int, repetitions: Int = 5) -> Double {
        precondition(size > 0 && threads > 0 && repetitions > 0, "sgemm benchmark needs positive parameters")
        setThreads(threads)
        defer { useCallerParallelism() }
        var rng = SplitMix64(seed: 42)
        let a = (0..<(size * size)).map { _ in rng.nextFloat() - 0.5 }
        let b = (0..<(size * size)).map { _ in rng.nextFloat() - 0.5 }
        var c = [Float](repeating: 0, count: size * size)
        var best = Double.infinity
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        dotProducts(pa.baseAddress!, rowsA: size, pb.baseAddress!, rowsB: size,
                                    dimension: size, into: pc.baseAddress!)
                    }
                }
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return 2 * Double(size) * Double(size) * Double(size) / best / 1e9
    }
}
