import VectorMath

/// One domain label per document (a topic, a source, a tenant's sub-collection), validated.
public struct DomainLabels: Sendable, Equatable {
    public static let domainsMax = 4_096
    public static let labelBytesMax = 256

    /// Distinct labels, in first-seen order.
    public let names: [String]
    /// Per document, its index into `names`.
    public let ofRow: [Int]

    public init(_ labels: [String], rows: Int) throws(HubScanError) {
        guard labels.count == rows else {
            throw HubScanError(.invalidParameter, "got \(labels.count) domain labels for \(rows) documents (one per row)")
        }
        var index = [String: Int](), names = [String](), ofRow = [Int]()
        ofRow.reserveCapacity(rows)
        for (row, label) in labels.enumerated() {
            guard !label.isEmpty, label.utf8.count <= Self.labelBytesMax else {
                throw HubScanError(.invalidParameter, "domain label of row \(row) must be 1...\(Self.labelBytesMax) bytes")
            }
            if let known = index[label] { ofRow.append(known); continue }
            guard names.count < Self.domainsMax else {
                throw HubScanError(.invalidParameter, "more than \(Self.domainsMax) distinct domains")
            }
            index[label] = names.count
            ofRow.append(names.count)
            names.append(label)
        }
        self.names = names
        self.ofRow = ofRow
    }
}

/// Domain-scoped hubness: every domain scanned as a collection of its own, with a sample of its
/// own documents (its share of the sample, at least `sampleMin`) plus the real queries whose
/// nearest document belongs to it. A hub aimed at one small topic is unremarkable among all
/// documents but the outlier of its domain.
enum DomainScan {
    /// Domains with fewer documents are not scanned alone (their statistics would be noise).
    static let rowsMin = 100
    static let sampleMin = 1_000
    /// Values a domain's tail quantile leaves above it. With a collection's 25, a domain of
    /// 1,000 documents anchors at its 97.5th percentile and 100 such domains raised 68 alarms on
    /// the clean 100k S1 collection; a targeted attack plants a few hubs per domain, not 25.
    static let hubsIgnored = 5

    /// Per document, its hubness z within its domain (nil for documents of unscanned domains).
    static func hubnessZ(_ embeddings: Matrix, domains: DomainLabels, global: QuerySample, globalHits: HitCounts,
                         metric: Metric, options: HubScanner.Options) throws(HubScanError) -> [Double?] {
        var members = [[Int]](repeating: [], count: domains.names.count)
        for (row, domain) in domains.ofRow.enumerated() { members[domain].append(row) }
        let realOf = realQueriesByDomain(global, hits: globalHits, domains: domains)
        var z = [Double?](repeating: nil, count: embeddings.rows)
        for (domain, rows) in members.enumerated() where rows.count >= rowsMin && rows.count > options.k {
            let subset = RowSampling.gather(embeddings, rows: rows)
            let real = realOf[domain].isEmpty ? nil : RowSampling.gather(global.vectors, rows: realOf[domain])
            // A real-queries-only scan has nothing to ask of a domain no real query reached.
            if options.sample == .queries && real == nil { continue }
            let share = options.sampleSize * rows.count / max(1, embeddings.rows)
            let size = max(share, min(sampleMin, rows.count))
            let sample = try QuerySample.draw(options.sample, size: size, embeddings: subset, realQueries: real,
                                              metric: metric, seed: options.seed &+ 7 &+ UInt64(domain))
            let hits = try HitCounts(sample: sample, embeddings: subset, k: options.k, metric: metric)
            let summary = RobustStatistics.summary(hits.rankWeighted, expectedPerItem: hits.chanceRankWeighted,
                                                   transform: HubScanner.hubnessTransform, hubsIgnored: hubsIgnored)
            for (local, row) in rows.enumerated() { z[row] = summary.z(hits.rankWeighted[local]) }
        }
        return z
    }

    /// Sample rows holding real queries, grouped by the domain of each one's nearest document.
    private static func realQueriesByDomain(_ sample: QuerySample, hits: HitCounts, domains: DomainLabels) -> [[Int]] {
        var byDomain = [[Int]](repeating: [], count: domains.names.count)
        let firstReal = sample.vectors.rows - sample.realQueryCount
        for q in firstReal..<sample.vectors.rows {
            let nearest = hits.topRows[q * hits.k]
            if nearest >= 0 { byDomain[domains.ofRow[Int(nearest)]].append(q) }
        }
        return byDomain
    }
}
