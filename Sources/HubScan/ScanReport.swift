import VectorMath

/// What a scan found, as a value: deterministic for a given seed, encodable as the JSON the CLI
/// and (later) the service return.
public struct ScanReport: Sendable, Codable, Equatable {
    public struct Parameters: Sendable, Codable, Equatable {
        public var sample: SampleKind
        public var sampleSize: Int
        public var k: Int
        public var threshold: Double
        public var budget: Double?
        public var seed: UInt64
        public var topicClusters: Int
        public var metric: Metric
    }

    public struct Timings: Sendable, Codable, Equatable {
        public var sampleSeconds: Double
        public var searchSeconds: Double
        public var scoringSeconds: Double
        public var totalSeconds: Double
    }

    /// The distribution the hubness z-scores were computed on (rank-weighted hits).
    public struct Distribution: Sendable, Codable, Equatable {
        public var median: Double
        public var mad: Double
        public var scale: Double
        public var scaleWasFloored: Bool
        public var chanceLevel: Double
        public var maxZ: Double
    }

    /// One flagged document, with a score per detector and why.
    public struct Flagged: Sendable, Codable, Equatable {
        public var row: Int
        /// Combined score used for ranking and the budget (higher = more suspicious).
        public var score: Double
        /// Hubness z-score (rank-weighted hits), the thresholded detector.
        public var z: Double
        public var detectors: Detectors
        public var explanation: Explanation
    }

    public struct Detectors: Sendable, Codable, Equatable {
        public var hubnessZ: Double
        public var spreadZ: Double
    }

    public struct Explanation: Sendable, Codable, Equatable {
        public var hits: Int
        public var rankWeightedHits: Double
        public var exampleQueries: [Int]
        public var clustersReached: Int
        public var reason: String
    }

    public var parameters: Parameters
    public var documents: Int
    public var queries: Int
    public var realQueries: Int
    public var timings: Timings
    public var distribution: Distribution
    public var flagged: [Flagged]
    /// The combined score of every row, when asked for (`--all-scores`).
    public var scores: [Double]?
}
