/// Lays out a compact JSON text for people: one member per line, two spaces per level. Every
/// token is copied as received (numbers are never parsed, so a 64-bit seed prints exactly as
/// the service sent it); the text is assumed valid JSON (the service wrote it).
enum JSONLayout {
    static func indented(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        var depth = 0, inString = false, escaped = false
        var previous: UInt8 = 0
        func newline() { out.append(0x0A); out.append(contentsOf: repeatElement(0x20, count: depth * 2)) }
        for byte in bytes {
            if inString {
                out.append(byte)
                if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
                previous = byte
                continue
            }
            switch byte {
            case 0x20, 0x0A, 0x0D, 0x09:
                continue  // insignificant whitespace; the layout adds its own
            case 0x22:
                inString = true
                out.append(byte)
            case 0x7B, 0x5B:  // { [
                depth += 1
                out.append(byte)
                newline()
            case 0x7D, 0x5D:  // } ]
                depth -= 1
                if previous == 0x7B || previous == 0x5B {  // empty: {} or []
                    while out.last == 0x20 || out.last == 0x0A { out.removeLast() }
                } else {
                    newline()
                }
                out.append(byte)
            case 0x2C:  // ,
                out.append(byte)
                newline()
            case 0x3A:  // :
                out.append(contentsOf: [0x3A, 0x20])
            default:
                out.append(byte)
            }
            previous = byte
        }
        return String(decoding: out, as: UTF8.self)
    }
}
