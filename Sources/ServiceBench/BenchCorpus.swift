import Dispatch
import Engine
import FirebreakAPI
import Foundation
import VectorMath

/// Seeded documents and queries: clustered vectors (normalised) and texts from a vocabulary.
public struct BenchCorpus: Sendable {
    public let vectors: Matrix
    public let queries: Matrix
    public let tenants: Int
    static let words = (0..<2_000).map { "w\($0)" }

    public init(documents: Int, dimension: Int, tenants: Int, seed: UInt64) {
        vectors = SyntheticData.gaussianClusters(rows: documents, dimension: dimension, clusters: 50, seed: seed, normalized: true)
        queries = SyntheticData.gaussianClusters(rows: 1_000, dimension: dimension, clusters: 50, seed: seed, stream: 1,
                                                 normalized: true)
        self.tenants = tenants
    }

    public func id(_ row: Int) -> String { "doc-\(row)" }
    public func tenant(_ row: Int) -> String { "tenant-\(row % tenants)" }
    public func text(_ row: Int) -> String {
        (0..<30).map { Self.words[(row &* 7919 &+ $0 &* $0 &* 104_729) % Self.words.count] }.joined(separator: " ")
    }

    public func document(_ row: Int) -> NewDocumentBody {
        NewDocumentBody(id: id(row), tenant: tenant(row), text: text(row), embedding: vectors.row(row))
    }

    public func query(_ index: Int, mode: SearchMode) -> SearchBody {
        var body = SearchBody(mode: mode.rawValue, k: 10, tenant: "tenant-\(index % tenants)")
        if mode != .lexical { body.vector = queries.row(index % queries.rows) }
        if mode != .vector { body.query = text(index * 31 % vectors.rows).split(separator: " ").prefix(3).joined(separator: " ") }
        return body
    }

    /// A vector search aimed at one document (its own vector, in its tenant).
    public func probe(_ row: Int) -> SearchBody {
        SearchBody(mode: "vector", vector: vectors.row(row), k: 10, tenant: tenant(row))
    }
}

/// When each named thing happened (monotonic ns): quarantines acknowledged, or a "done"
/// mark the load clients watch. Shared by the load clients.
public final class TimeMarks: @unchecked Sendable {
    public init() {}
    private let lock = NSLock()
    private var times: [String: UInt64] = [:]
    public func record(_ id: String, at time: UInt64) { lock.withLock { times[id] = time } }
    public func time(_ id: String) -> UInt64? { lock.withLock { times[id] } }
    public func contains(_ id: String) -> Bool { time(id) != nil }
}

/// The nearest-rank percentile (p in 0...100) of `values`; 0 when empty.
public func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[max(0, min(sorted.count, rank) - 1)]
}

/// Seconds since a monotonic instant (`DispatchTime.now().uptimeNanoseconds`).
func secondsSince(_ start: UInt64) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// The ids a search answered, in rank order.
public func replyIDs(_ reply: APIClient.Reply) throws -> [String] {
    try reply.decoded(SearchResultBody.self).results.map(\.id)
}
