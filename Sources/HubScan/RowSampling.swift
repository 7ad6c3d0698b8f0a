import VectorMath

/// Seeded row sampling shared by the samplers and k-means.
enum RowSampling {
    /// `count` distinct indices of `0..<n`, drawn without replacement (partial Fisher–Yates).
    static func distinctRows(_ count: Int, of n: Int, rng: inout SplitMix64) -> [Int] {
        precondition(count >= 0 && count <= n, "cannot draw \(count) distinct rows of \(n)")
        var order = Array(0..<n)
        for i in 0..<count { order.swapAt(i, i + Int(rng.next() % UInt64(n - i))) }
        return Array(order[0..<count])
    }

    /// `rows` distinct rows of `data` (all of it, unshuffled, when it has no more).
    static func subsample(_ data: Matrix, rows: Int, rng: inout SplitMix64) -> Matrix {
        if rows >= data.rows { return data }
        return gather(data, rows: distinctRows(rows, of: data.rows, rng: &rng))
    }

    /// The listed rows of `data`, in order.
    static func gather(_ data: Matrix, rows: [Int]) -> Matrix {
        let d = data.dimension
        var values = [Float](repeating: 0, count: rows.count * d)
        data.withUnsafeRows { source in
            values.withUnsafeMutableBufferPointer { out in
                for (i, row) in rows.enumerated() {
                    (out.baseAddress! + i * d).update(from: source + row * d, count: d)
                }
            }
        }
        return try! Matrix(rows: rows.count, dimension: d, storage: values)
    }
}
