import FirebreakAPI
import Foundation
import Hummingbird
import Store

extension API {
    func addOperationRoutes(to router: Router<APIContext>, readiness: Readiness) {
        router.post("/v1/tokens") { request, context in
            try await mutation(request, context, permission: .administer) { buffer, _ in
                let body = try decode(CreateTokenBody.self, from: buffer)
                guard let role = Role(rawValue: body.role) else {
                    throw Problem(.badRequest, .invalidInput, "role must be reader, retrieval_owner, incident_commander or admin")
                }
                if let tenant = body.tenant, tenant.range(of: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", options: .regularExpression) == nil {
                    throw Problem(.badRequest, .invalidInput, "tenant must be 1-63 letters, digits, '_', '.' or '-'")
                }
                let token = TokenRecords.generate()
                _ = try await pool.withConnection { try TokenRecords.insert(token, role: role.rawValue, tenant: body.tenant, on: $0) }
                return try reply(TokenBody(token: token, role: role.rawValue, tenant: body.tenant), status: .created)
            }
        }
        router.get("/healthz") { _, _ in
            Self.response(Reply(data: Data(#"{"status":"ok"}"#.utf8)))
        }
        router.get("/readyz") { _, _ in
            let database = (try? await pool.withConnection { try $0.query("SELECT 1") }) != nil
            let replica = collections.replica
            let ready = database && readiness.loaded && replica.isReady
            let refusals = collections.all.compactMap { collection in
                collection.writeRefusal.map { WriteRefusalBody(collection: collection.configuration.name, reason: $0) }
            }
            return Self.response(try reply(ReadinessBody(
                ready: ready, appliedSeq: replica.appliedSeq, headSeq: replica.startHead ?? 0, replica: replica.name,
                database: database, collectionsLoaded: readiness.loaded, problem: replica.problem,
                writeRefusals: refusals.sorted { $0.collection < $1.collection },
                unloadedCollections: collections.unloadedCollections.map { UnloadedCollectionBody(collection: $0.name, reason: $0.reason) }),
                status: ready ? .ok : .serviceUnavailable))
        }
        router.get("/v1/replicas") { _, context in
            try context.requireCaller().require(.read)
            let replicas = try await pool.withConnection { try ReplicaRecords.all(on: $0) }
            return Self.response(try reply(ReplicasBody(replicas: replicas.map {
                ReplicaBody(name: $0.name, appliedSeq: $0.appliedSeq, silentSeconds: $0.silentSeconds,
                            live: $0.silentSeconds < ReplicaRecords.silentSecondsMax, problem: $0.problem)
            })))
        }
        router.get("/metrics") { _, _ in
            Self.response(Reply(data: Data(metrics.render(collections: collections).utf8), contentType: "text/plain; version=0.0.4; charset=utf-8"))
        }
        router.get("/openapi.json") { _, _ in
            Self.response(Reply(data: OpenAPIDocument.data))
        }
    }
}


/// Whether start-up has finished loading the collections.
final class Readiness: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    var loaded: Bool { lock.withLock { done } }
    func markLoaded() { lock.withLock { done = true } }
}

/// The OpenAPI 3.1 document shipped as a resource (the repository's copy is the source).
enum OpenAPIDocument {
    static let data: Data = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
              let data = try? Data(contentsOf: url) else { return Data("{}".utf8) }
        return data
    }()
}
