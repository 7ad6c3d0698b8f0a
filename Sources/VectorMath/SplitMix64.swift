/// A tiny, fast, seedable random generator (SplitMix64). Every test and synthetic data set in
/// Firebreak uses a fixed seed so results are reproducible run to run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 24) }

    /// Uniform in (0, 1], safe for logarithms.
    public mutating func nextOpenUnit() -> Double { (Double(next() >> 11) + 1) / Double(1 << 53) }

    /// Standard normal (Box–Muller).
    public mutating func nextGaussian() -> Float {
        let u = nextOpenUnit(), v = nextOpenUnit()
        return Float((-2 * _log(u)).squareRoot() * _cos(2 * Double.pi * v))
    }
}

@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }

import Foundation
