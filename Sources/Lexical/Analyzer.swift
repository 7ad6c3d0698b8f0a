import Foundation

/// How text becomes terms. Stored with every index, so a query is analysed exactly as the
/// documents were; two configurations that differ in any field are different analyzers.
public struct AnalyzerConfiguration: Sendable, Equatable, Codable {
    public enum TokenPattern: UInt8, Sendable, Codable {
        /// Maximal runs of Unicode letters and digits; everything else separates tokens.
        case lettersAndDigits = 1
        /// scikit-learn's and bm25s's `(?u)\b\w\w+\b`: runs of letters, digits and `_`,
        /// at least two characters long.
        case wordTwoOrMore = 2
    }

    public enum StopWords: UInt8, Sendable, Codable {
        case none = 0
        /// Lucene's English stop set (33 words), which bm25s also uses.
        case english = 1
    }

    /// NFKC compatibility folding ("ﬁ" → "fi", full-width → ASCII) before lower-casing.
    public var foldsCompatibility: Bool
    public var tokenPattern: TokenPattern
    public var stopWords: StopWords
    /// The English Snowball (Porter2) stemmer.
    public var stems: Bool

    public init(foldsCompatibility: Bool = true, tokenPattern: TokenPattern = .lettersAndDigits,
                stopWords: StopWords = .english, stems: Bool = true) {
        self.foldsCompatibility = foldsCompatibility
        self.tokenPattern = tokenPattern
        self.stopWords = stopWords
        self.stems = stems
    }

    /// The default: NFKC, lower case, letters and digits, English stop words, Porter2.
    public static let english = AnalyzerConfiguration()
    /// Token for token what `bm25s.tokenize(lower=True, stopwords="en", stemmer=PyStemmer
    /// English)` produces, for side-by-side comparisons.
    public static let bm25sCompatible = AnalyzerConfiguration(
        foldsCompatibility: false, tokenPattern: .wordTwoOrMore, stopWords: .english, stems: true)

    /// A short human-readable name, for reports and `--help`.
    public var name: String {
        let pattern = tokenPattern == .lettersAndDigits ? "alnum" : "word2"
        return "\(pattern)\(foldsCompatibility ? "+nfkc" : "")\(stopWords == .english ? "+stop" : "")"
            + (stems ? "+porter2" : "")
    }
}

/// Turns text into terms. Immutable and `Sendable`: one analyzer serves every thread.
public struct Analyzer: Sendable {
    /// Bumped whenever any configuration's output changes for some input; an index written
    /// by another version is refused rather than queried with different terms.
    public static let version: UInt32 = 1
    /// Tokens longer than this (in Unicode scalars) are dropped, as Lucene and Tantivy do:
    /// they are base64 blobs and hashes, never words anyone searches for.
    public static let tokenScalarsMax = 255

    public let configuration: AnalyzerConfiguration
    private let stemmer = EnglishStemmer()

    public init(_ configuration: AnalyzerConfiguration = .english) {
        self.configuration = configuration
    }

    public var name: String { configuration.name }

    /// The terms of `text`, in order, stop words removed and stems applied.
    public func terms(_ text: String) -> [String] {
        var result: [String] = []
        forEachToken(text) { token in
            if let term = term(forToken: token) { result.append(term) }
        }
        return result
    }

    /// The terms of UTF-8 bytes from the wire; invalid UTF-8 is a typed error, not a guess.
    public func terms(utf8 bytes: some Collection<UInt8>) throws(LexicalError) -> [String] {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw LexicalError(.invalidUTF8, "text is not valid UTF-8")
        }
        return terms(text)
    }

    /// The index term for one token: nil for a stop word, else its stem (or itself).
    public func term(forToken token: String) -> String? {
        if configuration.stopWords == .english, StopWordList.english.contains(token) { return nil }
        return configuration.stems ? stemmer.stem(token) : token
    }

    /// Calls `body` with every token of `text` (lower-cased, folded), before stop words and
    /// stemming. ASCII text takes a byte-level path; anything else is folded first.
    public func forEachToken(_ text: String, _ body: (String) -> Void) {
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            forEachASCIIToken(text, body)
            return
        }
        let folded = configuration.foldsCompatibility ? text.precomposedStringWithCompatibilityMapping : text
        forEachUnicodeToken(folded.lowercased(), body)
    }

    private var minimumLength: Int { configuration.tokenPattern == .wordTwoOrMore ? 2 : 1 }

    private func forEachASCIIToken(_ text: String, _ body: (String) -> Void) {
        let underscoreIsWord = configuration.tokenPattern == .wordTwoOrMore
        var token: [UInt8] = []
        token.reserveCapacity(32)
        func flush() {
            if token.count >= minimumLength, token.count <= Self.tokenScalarsMax {
                body(String(decoding: token, as: UTF8.self))
            }
            token.removeAll(keepingCapacity: true)
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                token.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                token.append(byte + 32)
            case UInt8(ascii: "_") where underscoreIsWord:
                token.append(byte)
            default:
                flush()
            }
        }
        flush()
    }

    private func forEachUnicodeToken(_ text: String, _ body: (String) -> Void) {
        let underscoreIsWord = configuration.tokenPattern == .wordTwoOrMore
        var token = String.UnicodeScalarView()
        var length = 0
        func flush() {
            if length >= minimumLength, length <= Self.tokenScalarsMax { body(String(token)) }
            token = String.UnicodeScalarView()
            length = 0
        }
        for scalar in text.unicodeScalars {
            if Self.isLetterOrDigit(scalar) || (underscoreIsWord && scalar == "_") {
                token.append(scalar)
                length += 1
            } else {
                flush()
            }
        }
        flush()
    }

    static func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }
}

enum StopWordList {
    /// Lucene's `EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`, also bm25s's "en" list.
    static let english: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
        "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
        "these", "they", "this", "to", "was", "will", "with",
    ]
}
