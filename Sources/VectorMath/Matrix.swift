/// A dense row-major matrix of Float32: `rows` vectors of `dimension` components each.
/// The storage is one contiguous array, so it can be handed to BLAS and kernels as a pointer.
public struct Matrix: Sendable, Equatable {
    public let rows: Int
    public let dimension: Int
    public private(set) var storage: [Float]

    /// Wraps `storage`, which must hold exactly `rows * dimension` floats.
    public init(rows: Int, dimension: Int, storage: [Float]) throws(VectorMathError) {
        guard rows >= 0, dimension > 0 else {
            throw VectorMathError(.invalidArgument, "a matrix needs rows >= 0 and dimension > 0 (got \(rows) × \(dimension))")
        }
        guard storage.count == rows * dimension else {
            throw VectorMathError(.dimensionMismatch,
                                  "\(storage.count) floats do not form \(rows) rows of dimension \(dimension)")
        }
        self.rows = rows
        self.dimension = dimension
        self.storage = storage
    }

    /// A zero-filled matrix.
    public init(zeroRows rows: Int, dimension: Int) {
        precondition(rows >= 0 && dimension > 0, "matrix shape must be non-negative rows, positive dimension")
        self.rows = rows
        self.dimension = dimension
        self.storage = [Float](repeating: 0, count: rows * dimension)
    }

    /// Row `index` as a fresh array (for tests and small tools; hot paths use pointers).
    public func row(_ index: Int) -> [Float] {
        precondition(index >= 0 && index < rows, "row \(index) out of 0..<\(rows)")
        return Array(storage[(index * dimension)..<((index + 1) * dimension)])
    }

    /// The first row index holding a NaN or infinity, if any.
    public func firstNonFiniteRow() -> Int? {
        storage.withUnsafeBufferPointer { buffer in
            for i in 0..<buffer.count where !buffer[i].isFinite { return i / dimension }
            return nil
        }
    }

    /// Throws `nonFiniteValue` naming the first row that holds a NaN or infinity.
    public func validateFinite() throws(VectorMathError) {
        if let row = firstNonFiniteRow() {
            throw VectorMathError(.nonFiniteValue, "row \(row) contains NaN or infinity")
        }
    }

    /// Normalises every row to unit length (cosine); throws on an all-zero row.
    public mutating func normalizeRows() throws(VectorMathError) {
        let d = dimension
        for r in 0..<rows {
            do {
                try storage.withUnsafeMutableBufferPointer { buffer in
                    try Metric.cosine.prepare(UnsafeMutableBufferPointer(rebasing: buffer[(r * d)..<((r + 1) * d)]))
                }
            } catch let error as VectorMathError {
                throw VectorMathError(error.code, "row \(r): \(error.message)")
            } catch {
                fatalError("unreachable: prepare throws only VectorMathError")
            }
        }
    }

    public func withUnsafeRows<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }
}
