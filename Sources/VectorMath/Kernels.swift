/// SIMD distance kernels over raw float pointers. No allocation, no bounds checks in the loop:
/// callers guarantee both pointers address at least `count` floats.
///
/// The main loop consumes 32 floats per step in two independent SIMD16 accumulators with
/// fused multiply-add (AVX2 + FMA in release builds), then an 8-wide step, then a scalar tail.
public enum Kernels {
    @inlinable
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        var i = 0
        while i + 32 <= count {
            let x0 = ra.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            let y0 = rb.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            let x1 = ra.loadUnaligned(fromByteOffset: (i &+ 16) &* 4, as: SIMD16<Float>.self)
            let y1 = rb.loadUnaligned(fromByteOffset: (i &+ 16) &* 4, as: SIMD16<Float>.self)
            acc0.addProduct(x0, y0)
            acc1.addProduct(x1, y1)
            i &+= 32
        }
        var acc8 = SIMD8<Float>()
        while i + 8 <= count {
            let x = ra.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            let y = rb.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            acc8.addProduct(x, y)
            i &+= 8
        }
        var sum = horizontalSum(acc0 + acc1, acc8)
        while i < count {
            sum += a[i] * b[i]
            i &+= 1
        }
        return sum
    }

    @inlinable
    public static func squaredL2(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        var i = 0
        while i + 32 <= count {
            let d0 = ra.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
                - rb.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            let d1 = ra.loadUnaligned(fromByteOffset: (i &+ 16) &* 4, as: SIMD16<Float>.self)
                - rb.loadUnaligned(fromByteOffset: (i &+ 16) &* 4, as: SIMD16<Float>.self)
            acc0.addProduct(d0, d0)
            acc1.addProduct(d1, d1)
            i &+= 32
        }
        var acc8 = SIMD8<Float>()
        while i + 8 <= count {
            let d = ra.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                - rb.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            acc8.addProduct(d, d)
            i &+= 8
        }
        var sum = horizontalSum(acc0 + acc1, acc8)
        while i < count {
            let d = a[i] - b[i]
            sum += d * d
            i &+= 1
        }
        return sum
    }

    /// Adds all lanes of `wide` and `narrow` by halving (four vector adds). `SIMD.sum()` keeps
    /// IEEE left-to-right order and compiles to ~24 dependent scalar adds, which cost as much
    /// as the whole 128-d loop.
    @inlinable @inline(__always)
    static func horizontalSum(_ wide: SIMD16<Float>, _ narrow: SIMD8<Float>) -> Float {
        let eight = wide.lowHalf + wide.highHalf + narrow
        let four = eight.lowHalf + eight.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    /// Squared L2 norm of each of `rows` consecutive vectors, written to `out`.
    public static func squaredNorms(_ rows: UnsafePointer<Float>, count: Int, dimension: Int,
                                    into out: UnsafeMutablePointer<Float>) {
        for r in 0..<count {
            let row = rows + r * dimension
            out[r] = dot(row, row, dimension)
        }
    }
}

extension SIMD16 where Scalar == Float {
    /// self += x * y, as one fused multiply-add per lane.
    @inlinable @inline(__always)
    mutating func addProduct(_ x: Self, _ y: Self) {
        self = self.addingProduct(x, y)
    }
}

extension SIMD8 where Scalar == Float {
    @inlinable @inline(__always)
    mutating func addProduct(_ x: Self, _ y: Self) {
        self = self.addingProduct(x, y)
    }
}
