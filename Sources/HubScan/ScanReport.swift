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
        /// How the top-k lists were found: "exact" or an index ("hnsw").
        public var search = "exact"
    }

    public struct Timings: Sendable, Codable, Equatable {
        /// Sampling, k-means centroids and topic clusters.
        public var sampleSeconds: Double
        /// The exact top-k of the sample (the hubness and spread detectors' search).
        public var searchSeconds: Double
        /// The perturbed sample's exact top-k (the stability detector's search).
        public var stabilitySeconds: Double
        /// Every domain's own scan (0 without domains).
        public var domainSeconds: Double
        public var scoringSeconds: Double
        public var totalSeconds: Double
        /// Multiply-adds of every exact search in the scan, × 2 (flops), and their rate over
        /// the whole scan: the number to hold against the machine's sgemm GFLOP/s.
        public var searchFlops: Double
        public var gflopsEndToEnd: Double
    }

    /// The distribution the hubness z-scores were computed on: rank-weighted hits, on the
    /// `transform` scale (√ by default); median, MAD and 99th percentile of the transformed values.
    public struct Distribution: Sendable, Codable, Equatable {
        public var transform: RobustStatistics.Transform
        public var median: Double
        public var mad: Double
        public var tail: Double
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
        /// The thresholded z: the highest of the mean of hubness and stability, hubness over
        /// the real queries, and hubness within the document's domain.
        public var z: Double
        public var detectors: Detectors
        public var explanation: Explanation
    }

    public struct Detectors: Sendable, Codable, Equatable {
        public var hubnessZ: Double
        public var stabilityZ: Double
        public var spreadZ: Double
        /// Hubness within the document's domain (nil without domains or for a domain too small
        /// to scan alone).
        public var domainZ: Double?
        /// Hubness over the real queries alone (nil when the sample had too few).
        public var realZ: Double?
    }

    public struct Explanation: Sendable, Codable, Equatable {
        public var hits: Int
        public var rankWeightedHits: Double
        public var exampleQueries: [Int]
        /// Rank-weighted hits that survived the perturbed queries.
        public var stableHits: Double
        public var clustersReached: Int
        public var domain: String?
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
    /// Every detector's z for every row, when asked for (`--all-scores`).
    public var detectorScores: DetectorScores?
}
