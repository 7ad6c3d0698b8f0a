import Foundation

/// BM25's two free parameters, with Lucene's defaults.
public struct BM25Parameters: Sendable, Equatable, Codable {
    /// Term-frequency saturation: 0 ignores tf beyond presence; larger values saturate later.
    public var k1: Float
    /// Length normalisation: 0 ignores document length, 1 normalises fully.
    public var b: Float

    public init(k1: Float = 1.2, b: Float = 0.75) {
        self.k1 = k1
        self.b = b
    }

    public func validated() throws(LexicalError) -> BM25Parameters {
        guard k1.isFinite, k1 >= 0, k1 <= 1_000 else {
            throw LexicalError(.invalidParameter, "k1 must be a finite number in 0...1000, got \(k1)")
        }
        guard b.isFinite, b >= 0, b <= 1 else {
            throw LexicalError(.invalidParameter, "b must be in 0...1, got \(b)")
        }
        return self
    }
}

/// BM25 as Lucene computes it, for one query over one collection state:
/// `idf = ln(1 + (N − df + 0.5) / (df + 0.5))` and
/// `score = idf · tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl))`, summed over query terms.
struct BM25Scorer {
    let parameters: BM25Parameters
    let documents: Int
    let averageLength: Float
    /// `k1·(1 − b)` and `k1·b / avgdl`: the per-document norm is one multiply-add.
    let normBase: Float
    let normPerToken: Float

    init(parameters: BM25Parameters, documents: Int, totalLength: UInt64) {
        precondition(documents > 0, "scoring needs at least one live document")
        self.parameters = parameters
        self.documents = documents
        averageLength = Float(Double(totalLength) / Double(documents))
        normBase = parameters.k1 * (1 - parameters.b)
        normPerToken = averageLength > 0 ? parameters.k1 * parameters.b / averageLength : 0
    }

    func idf(documentFrequency df: Int) -> Float {
        Float(log(1 + (Double(documents - df) + 0.5) / (Double(df) + 0.5)))
    }

    /// `weight` is idf · (k1 + 1) · (times the term occurs in the query).
    @inline(__always)
    func score(weight: Float, frequency: UInt32, length: UInt32) -> Float {
        let tf = Float(frequency)
        return weight * tf / (tf + normBase + normPerToken * Float(length))
    }

    /// `1 − b + b·dl/avgdl`, Lucene's length normalisation, for explanations.
    func lengthNorm(length: UInt32) -> Float {
        1 - parameters.b + (averageLength > 0 ? parameters.b * Float(length) / averageLength : 0)
    }
}

/// Why a BM25 score is what it is: one entry per matched query term.
public struct ScoreExplanation: Sendable, Equatable, Codable {
    public struct Term: Sendable, Equatable, Codable {
        public var term: String
        /// How often the term occurs in the query (its contribution is multiplied by this).
        public var queryCount: Int
        public var documentFrequency: Int
        public var idf: Float
        public var termFrequency: Int
        /// `1 − b + b·dl/avgdl`.
        public var lengthNorm: Float
        public var score: Float
    }

    public var label: UInt64
    public var score: Float
    public var documents: Int
    public var documentLength: Int
    public var averageDocumentLength: Float
    public var parameters: BM25Parameters
    public var terms: [Term]
}
