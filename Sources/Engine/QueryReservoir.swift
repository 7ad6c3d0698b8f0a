import VectorMath

/// A uniform sample of the distinct query vectors a collection answered, per tenant: the most
/// representative query sample a HubScan can use, and the one that sees hubs optimised
/// against real traffic. Memory only; it refills after a restart.
///
/// Bottom-k sampling: each distinct query gets a stable 64-bit hash of its float bit patterns,
/// and the sample keeps the `queriesMax` queries with the smallest hashes. Since the hash is a
/// fixed function of the vector, that is a uniform sample without replacement, and the same
/// for the same set of queries whatever order they came in, in any process: a scan's sample
/// is deterministic for a seed, the service's included (issue 18).
///
/// A query repeated verbatim is sampled once: hubness is how many *different* queries
/// retrieve a document. Counting every repetition would measure popularity instead, and a
/// document that answers a popular query would look like a hub.
final class QueryReservoir: @unchecked Sendable {
    /// Queries kept per tenant.
    static let queriesMax = 10_000

    private struct Sample {
        var vectors: [[Float]] = []
        var hashes: [UInt64] = []
        var present: Set<UInt64> = []
        /// Index of the largest hash kept (the one a smaller newcomer replaces).
        var largest = 0
        /// Offers that were not a repeat of a kept query.
        var seen = 0

        mutating func findLargest() {
            largest = hashes.indices.max { hashes[$0] < hashes[$1] } ?? 0
        }
    }

    private let lock = Mutex()
    private var byTenant: [String: Sample] = [:]

    /// A stable hash of a vector's float bit patterns (SplitMix64's finaliser, chained).
    static func hash(_ vector: [Float]) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(vector.count)
        for value in vector {
            h = (h ^ UInt64(value.bitPattern)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            h = h &* 0x94D0_49BB_1331_11EB
            h ^= h >> 29
        }
        return h
    }

    /// Offers one answered query (already prepared for the metric: unit length for cosine).
    func offer(_ vector: [Float], tenant: String) {
        let hash = Self.hash(vector)
        lock.locked {
            // Mutated in place through the subscript: copying the sample out would copy its vectors.
            guard byTenant[tenant]?.present.contains(hash) != true else { return }
            byTenant[tenant, default: Sample()].seen += 1
            if byTenant[tenant]!.vectors.count < Self.queriesMax {
                byTenant[tenant]!.vectors.append(vector)
                byTenant[tenant]!.hashes.append(hash)
                byTenant[tenant]!.present.insert(hash)
                if byTenant[tenant]!.vectors.count == Self.queriesMax { byTenant[tenant]!.findLargest() }
                return
            }
            let slot = byTenant[tenant]!.largest
            guard hash < byTenant[tenant]!.hashes[slot] else { return }
            byTenant[tenant]!.present.remove(byTenant[tenant]!.hashes[slot])
            byTenant[tenant]!.vectors[slot] = vector
            byTenant[tenant]!.hashes[slot] = hash
            byTenant[tenant]!.present.insert(hash)
            byTenant[tenant]!.findLargest()
        }
    }

    /// The sampled queries of `tenant` (every tenant's when nil), in hash order (so the same
    /// queries give the same matrix), nil when there are none.
    func queries(tenant: String?, dimension: Int) -> Matrix? {
        let vectors = lock.locked { () -> [[Float]] in
            func ordered(_ sample: Sample) -> [[Float]] {
                sample.hashes.indices.sorted { sample.hashes[$0] < sample.hashes[$1] }.map { sample.vectors[$0] }
            }
            if let tenant { return byTenant[tenant].map(ordered) ?? [] }
            return byTenant.keys.sorted().flatMap { ordered(byTenant[$0]!) }
        }
        guard !vectors.isEmpty else { return nil }
        return try? Matrix(rows: vectors.count, dimension: dimension, storage: vectors.flatMap { $0 })
    }

    /// How many distinct queries have been offered per tenant, and how many are kept.
    func counts() -> [String: (seen: Int, kept: Int)] {
        lock.locked { byTenant.mapValues { ($0.seen, $0.vectors.count) } }
    }
}
