import VectorMath

/// A uniform random sample of the query vectors a collection answered, per tenant (Vitter's
/// Algorithm R): the most representative query sample a HubScan can use, and the one that
/// sees hubs optimised against real traffic. Memory only; it refills after a restart.
final class QueryReservoir: @unchecked Sendable {
    /// Queries kept per tenant.
    static let queriesMax = 10_000

    private struct Sample {
        var vectors: [[Float]] = []
        var seen = 0
    }

    private let lock = Mutex()
    private var byTenant: [String: Sample] = [:]
    private var generator = SystemRandomNumberGenerator()

    /// Offers one answered query (already prepared for the metric: unit length for cosine).
    func offer(_ vector: [Float], tenant: String) {
        lock.locked {
            // Mutated in place through the subscript: copying the sample out would copy its vectors.
            byTenant[tenant, default: Sample()].seen += 1
            let seen = byTenant[tenant]!.seen
            if seen <= Self.queriesMax {
                byTenant[tenant]!.vectors.append(vector)
            } else {
                let slot = Int.random(in: 0..<seen, using: &generator)
                if slot < Self.queriesMax { byTenant[tenant]!.vectors[slot] = vector }
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

    /// How many queries have been offered per tenant, and how many are kept.
    func counts() -> [String: (seen: Int, kept: Int)] {
        lock.locked { byTenant.mapValues { ($0.seen, $0.vectors.count) } }
    }
}
