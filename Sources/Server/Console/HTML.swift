// HTML — markup the console builds with plain Swift strings.
//
// Owns: the one type a console page is made of, and HTML escaping.
// Never: lets a value into a page unescaped. A `String` interpolated into `HTML` is always
// escaped (text and quoted attribute values alike); only string literals written in this
// source and other `HTML` values go in as they are (`HTML(stringLiteral:)` is for literals;
// nothing calls it with a value).
// Invariant: `HTML.text` is well-formed as far as values go: no value can open a tag, close
// an attribute or start an entity.

/// A fragment of HTML. Build it with a string literal; interpolated `String`s are escaped,
/// interpolated `HTML` is inserted as is.
struct HTML: Sendable, Equatable, ExpressibleByStringInterpolation, CustomStringConvertible {
    private(set) var text: String

    typealias StringInterpolation = Interpolation

    init(stringLiteral value: String) { text = value }

    init(stringInterpolation: Interpolation) { text = stringInterpolation.text }

    static let empty: HTML = ""

    var description: String { text }

    /// `&`, `<`, `>`, `"` and `'` as entities: safe in element text and in quoted attributes.
    static func escape(_ value: some StringProtocol) -> String {
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count)
        for character in value.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// The fragments one after the other.
    static func join(_ parts: some Sequence<HTML>, separator: HTML = .empty) -> HTML {
        var joined = HTML.empty
        var first = true
        for part in parts {
            if !first { joined.text += separator.text }
            joined.text += part.text
            first = false
        }
        return joined
    }

    /// `content` when `condition` holds, else nothing.
    static func when(_ condition: Bool, _ content: () -> HTML) -> HTML { condition ? content() : .empty }

    struct Interpolation: StringInterpolationProtocol {
        var text = ""

        init(literalCapacity: Int, interpolationCount: Int) { text.reserveCapacity(literalCapacity + interpolationCount * 16) }

        mutating func appendLiteral(_ literal: String) { text += literal }
        mutating func appendInterpolation(_ value: String) { text += HTML.escape(value) }
        mutating func appendInterpolation(_ value: Substring) { text += HTML.escape(value) }
        mutating func appendInterpolation(_ value: HTML) { text += value.text }
        mutating func appendInterpolation(_ values: [HTML]) { for value in values { text += value.text } }
        /// Integers with thousands separators (`12,345`).
        mutating func appendInterpolation(_ value: Int) { text += HTML.escape(Self.grouped(value)) }
        mutating func appendInterpolation(_ value: Int64) { text += HTML.escape(Self.grouped(Int(value))) }

        static func grouped(_ value: Int) -> String {
            let digits = String(value.magnitude)
            var out = ""
            for (index, digit) in digits.enumerated() {
                if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
                out.append(digit)
            }
            return value < 0 ? "-" + out : out
        }
    }
}
