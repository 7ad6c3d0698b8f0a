import Foundation

/// Just enough XML for S3's answers, which are flat: the text of every `<Tag>…</Tag>` in
/// order, and the inner text of repeated blocks (`<Contents>…</Contents>`). Entities are
/// decoded. Not a general XML parser, and it does not need to be one.
enum XMLFields {
    static func values(_ tag: String, in xml: Substring) -> [String] {
        blocks(tag, in: xml).map { decodeEntities(String($0)) }
    }

    static func value(_ tag: String, in xml: Substring) -> String? { values(tag, in: xml).first }

    /// The inner text of each `<tag>…</tag>` (also `<tag attr="…">`), not decoded.
    static func blocks(_ tag: String, in xml: Substring) -> [Substring] {
        var found: [Substring] = []
        var rest = xml[...]
        let close = "</\(tag)>"
        while let open = rest.range(of: "<\(tag)") {
            guard let end = rest[open.upperBound...].firstIndex(of: ">") else { break }
            let opener = rest[open.upperBound..<end]
            // `<Tag>` or `<Tag attr…>`, not `<TagLonger>`; `<Tag/>` is empty.
            guard opener.isEmpty || opener.first == " " || opener == "/" else { rest = rest[end...]; continue }
            if opener.hasSuffix("/") { found.append(rest[end..<end]); rest = rest[rest.index(after: end)...]; continue }
            let contentStart = rest.index(after: end)
            guard let closing = rest[contentStart...].range(of: close) else { break }
            found.append(rest[contentStart..<closing.lowerBound])
            rest = rest[closing.upperBound...]
        }
        return found
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = ""
        var rest = text[...]
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";") else { result += rest[amp...]; return result }
            let entity = rest[rest.index(after: amp)..<semicolon]
            switch entity {
            case "amp": result += "&"
            case "lt": result += "<"
            case "gt": result += ">"
            case "quot": result += "\""
            case "apos": result += "'"
            default:
                let number = entity.hasPrefix("#x") ? UInt32(entity.dropFirst(2), radix: 16)
                    : entity.hasPrefix("#") ? UInt32(entity.dropFirst(1)) : nil
                if let number, let scalar = Unicode.Scalar(number) { result.unicodeScalars.append(scalar) } else {
                    result += "&\(entity);"
                }
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return result + rest
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
