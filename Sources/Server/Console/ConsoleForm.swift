// ConsoleForm — the fields of a console form post (application/x-www-form-urlencoded).
//
// Owns: decoding a form body into named values.
// Never: accepts a body over `bytesMax` or a field that is not valid UTF-8 (the whole form is
// refused); interprets a value (each action validates its own through the API's rules).
// Invariant: the first occurrence of a name wins.

import Foundation

struct ConsoleForm: Sendable, Equatable {
    static let bytesMax = 64 << 10
    private(set) var fields: [String: String] = [:]

    subscript(_ name: String) -> String? { fields[name] }

    /// The value, trimmed; nil when missing or blank.
    func text(_ name: String) -> String? {
        guard let value = fields[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    init(fields: [String: String] = [:]) { self.fields = fields }

    /// Parses `a=1&b=two+words&c=%C3%A9`; nil when a part is not valid percent-encoded UTF-8.
    init?(encoded body: String) {
        for part in body.split(separator: "&", omittingEmptySubsequences: true) {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(pair[0]), let value = Self.decode(pair.count > 1 ? pair[1] : "") else { return nil }
            if fields[name] == nil { fields[name] = value }
        }
    }

    private static func decode(_ part: Substring) -> String? {
        part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// `a=1&b=two%20words`: for links and tests.
    static func encode(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { name, value in
            (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? "") + "=" +
                (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }.joined(separator: "&")
    }
}
