// VectorMath — the numeric floor every index stands on.
//
// Owns: the BLAS bridge (cblas through libblas-dev; OpenBLAS at run time), SIMD distance
// kernels, dense row-major matrices, the id bitset shared by every search path, and batched
// exact k-NN (sgemm tiles + per-row top-k) — the ground truth for tests and HubScan.
//
// Never: knows of graphs, documents, tenants, HTTP or SQL; allocates inside a distance kernel;
// materialises a whole queries × base score matrix.
//
// Invariants:
// - Distances are "smaller is closer" for every metric (see `Metric`).
// - Cosine vectors are unit length by the time a kernel sees them (`Metric.prepare`).
// - A `Matrix` always holds exactly `rows * dimension` finite-or-not floats; finiteness is
//   checked by `Matrix.validateFinite()` at the edges, never inside kernels.

@_exported import Diagnostics

/// The one error type of VectorMath. Codes are stable; messages are for humans.
public typealias VectorMathError = CodedError<VectorMathErrorCode>

public enum VectorMathErrorCode: String, ErrorCode {
    case dimensionMismatch = "dimension_mismatch"
    case nonFiniteValue = "non_finite_value"
    case invalidArgument = "invalid_argument"
    case zeroVector = "zero_vector"
    case blasUnavailable = "blas_unavailable"
}
