/// The English Snowball stemmer ("Porter2"), as defined by Snowball 3.0.0's `english.sbl` —
/// the version PyStemmer 3.1 ships, which bm25s uses. The reference pairs in
/// `Tests/LexicalTests/Data` pin the behaviour word for word.
///
/// The algorithm, in brief: mark R1 (after the first vowel–consonant pair, or after a known
/// prefix such as "gener") and R2 (the same rule applied again inside R1); then strip
/// suffixes in five ordered steps, each allowed only when the suffix starts inside R1 or R2.
/// Within a step the longest matching suffix wins, and if its condition fails nothing else in
/// that step is tried.
///
/// Works on Unicode scalars: only ASCII letters take part in the rules; any other scalar is a
/// consonant. Input is expected lower-cased (the analyzer does that).
public struct EnglishStemmer: Sendable {
    public init() {}

    public func stem(_ word: String) -> String {
        if let special = Self.exceptions[word] { return special }
        var w = StemWord(word)
        guard w.count >= 3 else { return word }
        w.prelude()
        w.markRegions()
        w.step1a()
        w.step1b()
        w.step1c()
        w.step2()
        w.step3()
        w.step4()
        w.step5()
        return w.postlude()
    }

    /// Whole words with a fixed stem (Snowball's `exception1`).
    static let exceptions: [String: String] = [
        "skis": "ski", "skies": "sky", "idly": "idl", "gently": "gentl", "ugly": "ugli",
        "early": "earli", "only": "onli", "singly": "singl",
        "sky": "sky", "news": "news", "howe": "howe", "atlas": "atlas", "cosmos": "cosmos",
        "bias": "bias", "andes": "andes",
    ]
}

/// A word being stemmed: its scalars and the two region starts.
struct StemWord {
    private(set) var chars: [UInt32]
    private var p1 = 0
    private var p2 = 0
    var count: Int { chars.count }

    init(_ word: String) {
        chars = word.unicodeScalars.map(\.value)
    }

    // MARK: Character classes

    static let upperY = UInt32(UInt8(ascii: "Y"))
    static let lowerY = UInt32(UInt8(ascii: "y"))

    static func isVowel(_ c: UInt32) -> Bool {
        switch c {
        case 97, 101, 105, 111, 117, 121: return true  // a e i o u y
        default: return false
        }
    }

    /// Vowels plus w, x and Y: the letters a short syllable may not end in.
    static func isVowelWXY(_ c: UInt32) -> Bool {
        isVowel(c) || c == 119 || c == 120 || c == upperY
    }

    static func isValidLI(_ c: UInt32) -> Bool {
        "cdeghkmnrt".unicodeScalars.contains { $0.value == c }
    }

    // MARK: Suffix helpers

    func ends(with suffix: [UInt32], at end: Int? = nil) -> Bool {
        let end = end ?? chars.count
        guard end >= suffix.count else { return false }
        return chars[(end - suffix.count)..<end].elementsEqual(suffix)
    }

    /// The longest entry of `table` (sorted longest first) that the word ends with.
    func longestSuffix<Rule>(in table: [Suffix<Rule>]) -> Suffix<Rule>? {
        table.first { ends(with: $0.scalars) }
    }

    mutating func replaceSuffix(length: Int, with replacement: String) {
        chars.removeLast(length)
        chars.append(contentsOf: replacement.unicodeScalars.map(\.value))
    }

    /// True when some vowel occurs in `chars[0..<end]`.
    func hasVowel(before end: Int) -> Bool {
        chars[0..<end].contains(where: Self.isVowel)
    }

    /// A short syllable ends at `end`: consonant–vowel–consonant (the last not w, x or Y),
    /// or vowel–consonant as the whole word, or the word ends in "past".
    func isShortSyllable(endingAt end: Int) -> Bool {
        if end >= 3, !Self.isVowelWXY(chars[end - 1]), Self.isVowel(chars[end - 2]), !Self.isVowel(chars[end - 3]) {
            return true
        }
        if end == 2, !Self.isVowel(chars[1]), Self.isVowel(chars[0]) { return true }
        return ends(with: Suffixes.past, at: end)
    }

    /// Position just after the first consonant that follows a vowel, searching from `start`.
    func regionStart(from start: Int) -> Int? {
        var i = start
        while i < chars.count, !Self.isVowel(chars[i]) { i += 1 }
        i += 1
        while i < chars.count, Self.isVowel(chars[i]) { i += 1 }
        return i < chars.count ? i + 1 : nil
    }

    // MARK: Steps

    /// Drops a leading apostrophe and marks consonant y's as Y (initial y, or y after a vowel).
    mutating func prelude() {
        if chars.first == 39 { chars.removeFirst() }
        guard !chars.isEmpty else { return }
        if chars[0] == Self.lowerY { chars[0] = Self.upperY }
        for i in chars.indices.dropFirst() where chars[i] == Self.lowerY && Self.isVowel(chars[i - 1]) {
            chars[i] = Self.upperY
        }
    }

    mutating func markRegions() {
        p1 = chars.count
        p2 = chars.count
        if let prefix = Suffixes.regionPrefixes.first(where: { chars.starts(with: $0) }) {
            p1 = prefix.count
        } else if let start = regionStart(from: 0) {
            p1 = start
        } else {
            return
        }
        p2 = regionStart(from: p1) ?? chars.count
    }

    mutating func step1a() {
        if let apostrophe = longestSuffix(in: Suffixes.apostrophe) {
            chars.removeLast(apostrophe.scalars.count)
        }
        guard let suffix = longestSuffix(in: Suffixes.step1a) else { return }
        let start = count - suffix.scalars.count
        switch suffix.rule {
        case .sses: replaceSuffix(length: suffix.scalars.count, with: "ss")
        case .ies: replaceSuffix(length: suffix.scalars.count, with: start >= 2 ? "i" : "ie")
        case .keep: break
        case .s:
            // Delete the s when a vowel appears before the letter that precedes it.
            if start >= 1, hasVowel(before: start - 1) { chars.removeLast() }
        }
    }

    mutating func step1b() {
        guard let suffix = longestSuffix(in: Suffixes.step1b) else { return }
        let start = count - suffix.scalars.count
        switch suffix.rule {
        case .eed:
            let stem = Array(chars[0..<start])
            if start >= p1, !Suffixes.eedInvariant.contains(stem) {
                replaceSuffix(length: suffix.scalars.count, with: "ee")
            }
            return
        case .ing:
            if let special = ingException(stemEnd: start) {
                if special { replaceSuffix(length: count - (start - 1), with: "ie") }
                return
            }
        case .ed:
            break
        }
        guard hasVowel(before: start) else { return }
        chars.removeLast(suffix.scalars.count)
        tidyAfterStep1b()
    }

    /// Special stems before "ing": returns true for consonant + "y" ("dying" → "die"),
    /// false for whole-word exceptions kept as they are ("inning"), nil otherwise.
    private func ingException(stemEnd: Int) -> Bool? {
        guard let special = Suffixes.ingStems.first(where: { ends(with: $0, at: stemEnd) }) else { return nil }
        if special == [Self.lowerY] {
            return stemEnd == 2 && !Self.isVowel(chars[0]) ? true : nil
        }
        return stemEnd == special.count ? false : nil
    }

    private mutating func tidyAfterStep1b() {
        if Suffixes.addE.contains(where: { ends(with: $0) }) {
            chars.append(101)
        } else if count >= 2, chars[count - 1] == chars[count - 2], Suffixes.doubles.contains(chars[count - 1]) {
            let keep = count == 3 && [97, 101, 111].contains(chars[0])  // "add", "egg", "off"
            if !keep { chars.removeLast() }
        } else if count == p1, isShortSyllable(endingAt: count) {
            chars.append(101)
        }
    }

    mutating func step1c() {
        guard count >= 3, let last = chars.last, last == Self.lowerY || last == Self.upperY,
              !Self.isVowel(chars[count - 2]) else { return }
        chars[count - 1] = 105  // i
    }

    mutating func step2() {
        guard let suffix = longestSuffix(in: Suffixes.step2), count - suffix.scalars.count >= p1 else { return }
        let start = count - suffix.scalars.count
        switch suffix.rule {
        case .replace(let replacement):
            replaceSuffix(length: suffix.scalars.count, with: replacement)
        case .ogiAfterL:
            if start >= 1, chars[start - 1] == 108 { replaceSuffix(length: suffix.scalars.count, with: "og") }
        case .liAfterValidLI:
            if start >= 1, Self.isValidLI(chars[start - 1]) { chars.removeLast(2) }
        }
    }

    mutating func step3() {
        guard let suffix = longestSuffix(in: Suffixes.step3), count - suffix.scalars.count >= p1 else { return }
        switch suffix.rule {
        case .replace(let replacement):
            replaceSuffix(length: suffix.scalars.count, with: replacement)
        case .deleteInR2:
            if count - suffix.scalars.count >= p2 { chars.removeLast(suffix.scalars.count) }
        }
    }

    mutating func step4() {
        guard let suffix = longestSuffix(in: Suffixes.step4), count - suffix.scalars.count >= p2 else { return }
        let start = count - suffix.scalars.count
        switch suffix.rule {
        case .delete:
            chars.removeLast(suffix.scalars.count)
        case .ionAfterST:
            if start >= 1, chars[start - 1] == 115 || chars[start - 1] == 116 { chars.removeLast(3) }
        }
    }

    mutating func step5() {
        guard let last = chars.last else { return }
        let start = count - 1
        if last == 101 {  // e
            if start >= p2 || (start >= p1 && !isShortSyllable(endingAt: start)) { chars.removeLast() }
        } else if last == 108 {  // l
            if start >= p2, start >= 1, chars[start - 1] == 108 { chars.removeLast() }
        }
    }

    func postlude() -> String {
        var result = String.UnicodeScalarView()
        for c in chars {
            result.append(Unicode.Scalar(c == Self.upperY ? Self.lowerY : c)!)
        }
        return String(result)
    }
}
