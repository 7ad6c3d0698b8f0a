/// How two vectors are compared. Every metric is expressed as a distance where smaller is closer:
/// - `l2`: squared Euclidean distance.
/// - `innerProduct`: `1 − a·b` (maximum inner product search).
/// - `cosine`: `1 − a·b` over vectors normalised to unit length at ingest.
public enum Metric: String, Sendable, Codable, CaseIterable {
    case l2
    case innerProduct = "ip"
    case cosine

    /// Parses the names users type: `l2`, `ip` (or `inner_product`), `cosine`.
    public init?(name: String) {
        switch name.lowercased() {
        case "l2", "euclidean": self = .l2
        case "ip", "inner_product", "dot": self = .innerProduct
        case "cosine", "cos": self = .cosine
        default: return nil
        }
    }

    /// Stable numeric code used in on-disk headers.
    public var code: UInt32 {
        switch self {
        case .l2: 1
        case .innerProduct: 2
        case .cosine: 3
        }
    }

    public init?(code: UInt32) {
        switch code {
        case 1: self = .l2
        case 2: self = .innerProduct
        case 3: self = .cosine
        default: return nil
        }
    }

    /// Distance between two vectors of `dimension` floats, smaller is closer.
    @inlinable
    public func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, dimension: Int) -> Float {
        switch self {
        case .l2: return Kernels.squaredL2(a, b, dimension)
        case .innerProduct, .cosine: return 1 - Kernels.dot(a, b, dimension)
        }
    }

    /// Converts a dot product (as sgemm produces) into this metric's distance.
    /// For L2 it needs both squared norms: ‖a−b‖² = ‖a‖² + ‖b‖² − 2a·b.
    @inlinable
    public func distance(fromDot dot: Float, normA: Float, normB: Float) -> Float {
        switch self {
        case .l2: return max(0, normA + normB - 2 * dot)
        case .innerProduct, .cosine: return 1 - dot
        }
    }

    /// Brings a vector into the form the metric expects (unit length for cosine), in place.
    /// Throws `zeroVector` for an all-zero cosine vector, which has no direction.
    /// A prepared copy of `vector` (unit length for cosine, unchanged otherwise).
    public func prepared(_ vector: [Float]) throws(VectorMathError) -> [Float] {
        var copy = vector
        try copy.withUnsafeMutableBufferPointer { (buffer: inout UnsafeMutableBufferPointer<Float>) throws(VectorMathError) in
            try prepare(buffer)
        }
        return copy
    }

    public func prepare(_ vector: UnsafeMutableBufferPointer<Float>) throws(VectorMathError) {
        guard self == .cosine else { return }
        let base = vector.baseAddress!
        let norm = Kernels.dot(base, base, vector.count).squareRoot()
        guard norm > 0, norm.isFinite else {
            throw VectorMathError(.zeroVector, "a cosine vector must have a non-zero, finite length")
        }
        let inverse = 1 / norm
        for i in 0..<vector.count { base[i] *= inverse }
    }
}
