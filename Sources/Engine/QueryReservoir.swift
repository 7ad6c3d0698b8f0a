import VectorMath

/// A uniform random sample of the query vectors a collection answered, per tenant (Vitter's
/// Algorithm R): the most representative query sample a HubScan can use, and the one that
/// sees hubs optimised against real traffic. Memory only; it refills after a restart.
///
/// A query repeated verbatim is sampled once: hubness is how many *different* queries
/// retrieve a document. Counting every repetition would measure popularity instead, and a
/// document that answers a popular query would look like a hub.
final class QueryReservoir: @unchecked Sendable {
    /// Queries kept per tenant.
    static let queriesMax = 10_000

    private struct Sample {
        var vectors: [[Float]] = []
        /// Fingerprints of `vectors` (their float bit patterns hashed), for the duplicate check.
        var fingerprints: [Int] = []
        var present: Set<Int> = []
        var seen = 0
    }

    private let lock = Mutex()
    private var byTenant: [String: Sample] = [:]
    private var generator = SystemRandomNumberGenerator()

    /// Offers one answered query (already prepared for the metric: unit length for cosine).
    func offer(_ vector: [Float], tenant: String) {
        var hasher = Hasher()
        for value in vector { hasher.combine(value.bitPattern) }
        let fingerprint = hasher.finalize()
        lock.locked {
            // Mutated in place through the subscript: copying the sample out would copy its vectors.
            guard byTenant[tenant]?.present.contains(fingerprint) != true else { return }
            byTenant[tenant, default: Sample()].seen += 1
            let seen = byTenant[tenant]!.seen
            if seen <= Self.queriesMax {
                byTenant[tenant]!.vectors.append(vector)
                byTenant[tenant]!.fingerprints.append(fingerprint)
                byTenant[tenant]!.present.insert(fingerprint)
            } else {
                let slot = Int.random(in: 0..<seen, using: &generator)
                guard slot < Self.queriesMax else { return }
                byTenant[tenant]!.present.remove(byTenant[tenant]!.fingerprints[slot])
                byTenant[tenant]!.vectors[slot] = vector
                byTenant[tenant]!.fingerprints[slot] = fingerprint
                byTenant[tenant]!.present.insert(fingerprint)
            }
        }
    }

    /// The sampled queries of `tenant` (every tenant's when nil), nil when there are none.
    func queries(tenant: String?, dimension: Int) -> Matrix? {
        let vectors = lock.locked { () -> [[Float]] in
            if let tenant { return byTenant[tenant]?.vectors ?? [] }
            return byTenant.keys.sorted().flatMap { byTenant[$0]!.vectors }
        }
        guard !vectors.isEmpty else { return nil }
        return try? Matrix(rows: vectors.count, dimension: dimension, storage: vectors.flatMap { $0 })
    }

    /// How many distinct queries have been sampled per tenant, and how many are kept.
    func counts() -> [String: (seen: Int, kept: Int)] {
        lock.locked { byTenant.mapValues { ($0.seen, $0.vectors.count) } }
    }
}
