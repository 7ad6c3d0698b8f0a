import Engine
import FirebreakAPI
import Hummingbird
import Store
import VectorMath

extension API {
    func addCollectionRoutes(to router: Router<APIContext>) {
        router.post("/v1/collections") { request, context in
            try await mutation(request, context, permission: .write) { buffer, caller in
                guard caller.tenant == nil else {
                    throw Problem(.forbidden, .tenantForbidden, "a tenant-scoped token cannot create collections")
                }
                let body = try decode(CreateCollectionBody.self, from: buffer)
                guard ["cosine", "ip", "l2"].contains(body.metric), let metric = Metric(name: body.metric) else {
                    throw Problem(.badRequest, .invalidInput, "metric must be \"cosine\", \"ip\" or \"l2\"")
                }
                let configuration = CollectionConfiguration(
                    name: body.name, dimension: body.dimension, metric: metric, m: body.hnsw?.m ?? 16,
                    efConstruction: body.hnsw?.efConstruction ?? 200, efSearch: body.hnsw?.efSearch ?? 64)
                let collection = try await collections.create(configuration)
                return try reply(try await describe(collection, scope: nil), status: .created)
            }
        }
        router.get("/v1/collections") { _, context in
            let caller = try context.requireCaller()
            try caller.require(.read)
            var listed: [CollectionBody] = []
            for collection in collections.all { listed.append(try await describe(collection, scope: caller.tenant)) }
            return Self.response(try reply(CollectionListBody(collections: listed)))
        }
        router.get("/v1/collections/:name") { _, context in
            let caller = try context.requireCaller()
            try caller.require(.read)
            let collection = try collections.named(try context.parameters.require("name"))
            return Self.response(try reply(try await describe(collection, scope: caller.tenant)))
        }
    }

    /// A collection's status as the contract shows it.
    func describe(_ collection: LiveCollection, scope: String?) async throws -> CollectionBody {
        let configuration = collection.configuration
        let status = collection.status(scope: scope)
        let lastScan = try await pool.withConnection { try CollectionRecords.lastScan(collectionID: configuration.id, on: $0) }
        return CollectionBody(
            name: configuration.name, dimension: configuration.dimension, metric: configuration.metric.rawValue,
            hnsw: HNSWBody(m: configuration.m, efConstruction: configuration.efConstruction, efSearch: configuration.efSearch),
            mode: status.mode.rawValue, activeSnapshot: nil, documents: status.documents, quarantined: status.quarantined,
            tenants: status.tenants, flags: status.flags.map { FlagBody(flag: $0.flag.rawValue, tenant: $0.tenant) },
            lastScan: lastScan.map { LastScanBody(at: $0.at, maxZ: $0.maxZ) }, writeRefusal: collection.writeRefusal)
    }
}
