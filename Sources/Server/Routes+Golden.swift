import Engine
import FirebreakAPI
import Foundation
import Hummingbird

extension API {
    /// Golden queries: known-answer vector queries whose MRR@10 every rebuild is held to.
    func addGoldenRoutes(to router: Router<APIContext>) {
        router.put("/v1/collections/:name/golden-queries") { request, context in
            let name = try context.parameters.require("name")
            return try await mutation(request, context, permission: .write) { buffer, caller in
                guard caller.tenant == nil else {
                    throw Problem(.forbidden, .tenantForbidden, "golden queries cover every tenant of a collection; this token is scoped")
                }
                let body = try decode(GoldenQueriesBody.self, from: buffer)
                let set = try await collections.setGoldenQueries(
                    body.queries.map { GoldenQuery(tenant: $0.tenant, vector: $0.vector, relevant: $0.relevant) },
                    in: try collections.named(name), actor: caller.actor)
                return try reply(GoldenSummaryBody(set))
            }
        }
        router.get("/v1/collections/:name/golden-queries") { _, context in
            let caller = try context.requireCaller()
            try caller.require(.inspect)
            let name = try context.parameters.require("name")
            guard let set = try await collections.goldenQueries(of: try collections.named(name)) else {
                throw Problem(.notFound, .noGoldenQueries, "collection \(name.prefix(64)) has no golden queries; PUT them first")
            }
            let summary = GoldenSummaryBody(set)
            return Self.response(try reply(caller.tenant.map { scope in
                var scoped = summary
                scoped.byTenant = summary.byTenant.filter { $0.key == scope }
                return scoped
            } ?? summary))
        }
    }
}
