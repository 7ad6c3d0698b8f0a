import FirebreakAPI
import Foundation

// The small HTTP helpers the benchmarks (`bench service`, `bench replicas`) share.

/// The reply, or a failure naming its status and the start of its body.
func expectSuccess(_ reply: APIClient.Reply) throws -> APIClient.Reply {
    guard reply.isSuccess else {
        throw BenchFailure("the service answered \(reply.status): \(String(decoding: reply.body.prefix(300), as: UTF8.self))")
    }
    return reply
}

/// The ids a search answered, in rank order.
func replyIDs(_ reply: APIClient.Reply) throws -> [String] {
    try reply.decoded(SearchResultBody.self).results.map(\.id)
}
