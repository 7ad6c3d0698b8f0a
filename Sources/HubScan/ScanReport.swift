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
        enum CodingKeys: String, CodingKey {
            case sample, k, threshold, budget, seed, metric, search
            case sampleSize = "sample_size", topicClusters = "topic_clusters"
        }
    }

    public struct Timings: Sendable, Codable, Equatable {
        /// Sampling, k-means centroids and topic clusters.
        public var sampleSeconds: Double
        /// The exact top-k of the sample (the hubness and spread detectors' search).
        public var searchSeconds: Double
        /// The perturbed sample's exact top-k (the stability detector's search).
        public var stabilitySeconds: Double
        /// Near-duplicate grouping and the stable hits (nil in reports stored before it existed).
        public var groupingSeconds: Double?
        /// Every domain's own scan (0 without domains).
        public var domainSeconds: Double
        public var scoringSeconds: Double
        public var totalSeconds: Double
        /// Multiply-adds of every exact search in the scan, × 2 (flops), and their rate over
        /// the whole scan: the number to hold against the machine's sgemm GFLOP/s.
        public var searchFlops: Double
        public var gflopsEndToEnd: Double
        enum CodingKeys: String, CodingKey {
            case sampleSeconds = "sample_seconds", searchSeconds = "search_seconds", stabilitySeconds = "stability_seconds"
            case groupingSeconds = "grouping_seconds"
            case domainSeconds = "domain_seconds", scoringSeconds = "scoring_seconds", totalSeconds = "total_seconds"
            case searchFlops = "search_flops", gflopsEndToEnd = "gflops_end_to_end"
        }
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
        enum CodingKeys: String, CodingKey {
            case transform, median, mad, tail, scale
            case scaleWasFloored = "scale_was_floored", chanceLevel = "chance_level", maxZ = "max_z"
        }
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
        /// Its group of near-duplicates (`NearDuplicates`), scored as one: the group's smallest
        /// row and how many members it has; nil for a document alone.
        public var group: Int?
        public var groupSize: Int?
        enum CodingKeys: String, CodingKey {
            case row, score, z, detectors, explanation, group
            case groupSize = "group_size"
        }
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
        enum CodingKeys: String, CodingKey {
            case hubnessZ = "hubness_z", stabilityZ = "stability_z", spreadZ = "spread_z", domainZ = "domain_z", realZ = "real_z"
        }
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
        enum CodingKeys: String, CodingKey {
            case hits, domain, reason
            case rankWeightedHits = "rank_weighted_hits", exampleQueries = "example_queries", stableHits = "stable_hits"
            case clustersReached = "clusters_reached"
        }
    }

    public var parameters: Parameters
    public var documents: Int
    public var queries: Int
    public var realQueries: Int
    public var timings: Timings
    public var distribution: Distribution
    public var flagged: [Flagged]
    /// Every scored document's thresholded z, binned (nil in reports stored before it existed).
    public var zHistogram: ZHistogram?
    /// The combined score of every row, when asked for (`--all-scores`).
    public var scores: [Double]?
    /// Every detector's z for every row, when asked for (`--all-scores`).
    public var detectorScores: DetectorScores?
    /// Groups of two or more near-duplicates found (nil in reports stored before grouping).
    public var nearDuplicateGroups: Int?
    /// Every row's unit (the smallest row of its group, or itself), when asked for (`--all-scores`).
    public var units: [Int]?

    /// Snake_case on every path (the CLI, the service, the stored report), declared here so no
    /// encoder's key strategy is needed and a renamed property cannot rename a stored field.
    enum CodingKeys: String, CodingKey {
        case parameters, documents, queries, timings, distribution, flagged, scores
        case realQueries = "real_queries", detectorScores = "detector_scores", zHistogram = "z_histogram"
        case nearDuplicateGroups = "near_duplicate_groups", units
    }
}

/// A report with its flagged rows named by the caller's ids (and tenants), and the snapshot
/// it scanned when it was not the served index: the shape a stored or served report has.
/// Encoded flat: the report's fields, then `document_ids`, `document_tenants`, `snapshot_id`.
public struct LabelledScanReport: Sendable, Codable, Equatable {
    public var report: ScanReport
    /// One per `report.flagged` entry, in the same order.
    public var documentIDs: [String]
    public var documentTenants: [String]
    public var snapshotID: String?

    enum CodingKeys: String, CodingKey {
        case documentIDs = "document_ids", documentTenants = "document_tenants", snapshotID = "snapshot_id"
    }

    public init(report: ScanReport, documentIDs: [String], documentTenants: [String], snapshotID: String? = nil) {
        precondition(documentIDs.count == report.flagged.count && documentTenants.count == report.flagged.count,
                     "one id and one tenant per flagged row")
        self.report = report
        self.documentIDs = documentIDs
        self.documentTenants = documentTenants
        self.snapshotID = snapshotID
    }

    public init(from decoder: any Decoder) throws {
        report = try ScanReport(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        documentIDs = try container.decode([String].self, forKey: .documentIDs)
        documentTenants = try container.decode([String].self, forKey: .documentTenants)
        snapshotID = try container.decodeIfPresent(String.self, forKey: .snapshotID)
        guard documentIDs.count == report.flagged.count, documentTenants.count == report.flagged.count else {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.documentIDs],
                                                    debugDescription: "one id and one tenant per flagged row"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(documentIDs, forKey: .documentIDs)
        try container.encode(documentTenants, forKey: .documentTenants)
        try container.encodeIfPresent(snapshotID, forKey: .snapshotID)
    }

    /// The flagged documents at or above the report's threshold, by id.
    public var idsAtThreshold: [String] { documentsAtThreshold.map(\.id) }

    /// The flagged documents at or above the report's threshold, by tenant and id (ids are
    /// unique per tenant).
    public var documentsAtThreshold: [(tenant: String, id: String)] {
        report.flagged.indices.filter { report.flagged[$0].z >= report.parameters.threshold }
            .map { (documentTenants[$0], documentIDs[$0]) }
    }
}
