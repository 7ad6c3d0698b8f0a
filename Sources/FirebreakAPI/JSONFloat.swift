/// Decimal text to `Float`, for the ingest body's embedding arrays (issue 19): 7.5 million
/// numbers in a 20k-document corpus of 384-d vectors, each of which `JSONDecoder` takes
/// through a container of its own.
///
/// The number is first computed as a `Double`: by Clinger's fast path (a mantissa of at most
/// 19 significant digits times an exact power of ten, one or two roundings, each checked for
/// exactness with a fused multiply-add) or, for any other shape, by the standard library's
/// correctly rounded parser. Rounding that `Double` to `Float` gives the correctly rounded
/// `Float` of the decimal when the `Double` is the decimal exactly (a tie then goes to even,
/// as it should), or lies clear of the midpoints between floats: its error is a few `Double`
/// ulps, far too small to cross one. A `Double` within that margin of a midpoint (about one
/// number in ten million) and every number outside `Float`'s normal range come back nil, and
/// the caller leaves the whole body to `JSONDecoder`: the answer, when there is one, is the
/// float every correct parser gives.
enum JSONFloat {
    /// The largest mantissa the fast path accumulates exactly (19 decimal digits fit in 64 bits).
    static let mantissaDigitsMax = 19
    /// A `Double` whose 29 bits below `Float`'s mantissa are this close (in `Double` ulps) to
    /// the halfway pattern is too near a `Float` rounding midpoint to round on its own. The
    /// approximation's error is under 4 ulps; the margin doubles it.
    static let midpointMarginUlps: UInt64 = 8

    private static let exactPowersOfTen: [Double] = (0...22).map { exponent in
        var power = 1.0
        for _ in 0..<exponent { power *= 10 }
        return power
    }

    /// The JSON number `text` (RFC 8259 grammar, checked here) as a `Float`; nil when it is
    /// not a JSON number or cannot be rounded here with certainty (see the type's comment).
    static func parse(_ text: UnsafeRawBufferPointer) -> Float? {
        guard let (approximation, exact) = approximate(text) else { return nil }
        return roundedToFloat(approximation, exact: exact)
    }

    /// The Float nearest `value`, if `value` decides it: when it is the number itself (rounding
    /// then breaks a tie to even, as it should), or lies clear of every rounding midpoint.
    static func roundedToFloat(_ value: Double, exact: Bool) -> Float? {
        let magnitude = abs(value)
        if magnitude == 0 { return Float(value) }
        guard magnitude >= Double(Float.leastNormalMagnitude), magnitude <= Double(Float.greatestFiniteMagnitude) else {
            return nil
        }
        if exact { return Float(value) }
        let dropped = value.bitPattern & 0x1FFF_FFFF  // the 29 mantissa bits a Float does not keep
        let halfway: UInt64 = 0x1000_0000
        let distance = dropped > halfway ? dropped - halfway : halfway - dropped
        guard distance > midpointMarginUlps else { return nil }
        return Float(value)
    }

    /// A `Double` within a few ulps of the decimal `text`, and whether it is the decimal
    /// exactly; nil when `text` is not a JSON number.
    static func approximate(_ text: UnsafeRawBufferPointer) -> (value: Double, exact: Bool)? {
        var i = 0
        let n = text.count
        let negative = i < n && text[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0          // significant digits in `mantissa`
        var dropped = 0         // integer-part digits past `mantissaDigitsMax` (each scales up by ten)
        var fractionDigits = 0  // fraction digits in `mantissa`, and leading fraction zeros (each scales down)
        var truncated = false   // a non-zero digit past the 19th significant one was dropped
        // Integer part: 0, or a non-zero digit and more.
        guard i < n, isDigit(text[i]) else { return nil }
        if text[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < n, isDigit(text[i]) {
                if digits < mantissaDigitsMax {
                    mantissa = mantissa * 10 + UInt64(text[i] &- UInt8(ascii: "0"))
                    digits += 1
                } else {
                    dropped += 1  // past the 19th significant digit: kept as a power of ten only
                    truncated = truncated || text[i] != UInt8(ascii: "0")
                }
                i += 1
            }
        }
        if i < n, text[i] == UInt8(ascii: ".") {
            i += 1
            guard i < n, isDigit(text[i]) else { return nil }
            while i < n, isDigit(text[i]) {
                if mantissa == 0 && text[i] == UInt8(ascii: "0") {
                    fractionDigits += 1  // a leading zero (0.00…): it only scales
                } else if digits < mantissaDigitsMax {
                    mantissa = mantissa * 10 + UInt64(text[i] &- UInt8(ascii: "0"))
                    digits += 1
                    fractionDigits += 1
                } else {
                    truncated = truncated || text[i] != UInt8(ascii: "0")  // past the 19th digit: dropped
                }
                i += 1
            }
        }
        var exponent = 0
        if i < n, text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E") {
            i += 1
            var exponentNegative = false
            if i < n, text[i] == UInt8(ascii: "+") || text[i] == UInt8(ascii: "-") {
                exponentNegative = text[i] == UInt8(ascii: "-")
                i += 1
            }
            guard i < n, isDigit(text[i]) else { return nil }
            while i < n, isDigit(text[i]) {
                if exponent < 100_000 { exponent = exponent * 10 + Int(text[i] &- UInt8(ascii: "0")) }
                i += 1
            }
            if exponentNegative { exponent = -exponent }
        }
        guard i == n else { return nil }
        let scale = exponent + dropped - fractionDigits
        // Exact so far: every digit kept and the mantissa a Double as it is. Each step below
        // checks its own rounding error (fused multiply-add gives it exactly).
        var exact = !truncated && mantissa <= 1 << 53
        let m = Double(mantissa)
        var value: Double
        if mantissa == 0 {
            value = 0
        } else if (0...22).contains(scale) {
            let power = exactPowersOfTen[scale]
            value = m * power
            exact = exact && (-value).addingProduct(m, power) == 0  // the product's rounding error
        } else if (-22..<0).contains(scale) {
            let power = exactPowersOfTen[-scale]
            value = m / power
            exact = exact && m.addingProduct(-value, power) == 0  // the quotient's remainder
        } else if (-44 ..< -22).contains(scale) {
            value = m / exactPowersOfTen[22] / exactPowersOfTen[-scale - 22]
            exact = false
        } else {
            guard let parsed = Double(String(decoding: text, as: UTF8.self)) else { return nil }
            return (parsed, false)
        }
        return (negative ? -value : value, exact)
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

}
