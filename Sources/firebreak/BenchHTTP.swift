import Foundation
import Server

// The small HTTP helpers the benchmarks (`bench service`, `bench replicas`) share.

/// The reply, or a failure naming its status and the start of its body.
func expectSuccess(_ reply: APIClient.Reply) throws -> APIClient.Reply {
    guard reply.isSuccess else {
        throw BenchFailure("the service answered \(reply.status): \(String(decoding: reply.body.prefix(300), as: UTF8.self))")
    }
    return reply
}

func replyObject(_ reply: APIClient.Reply) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: reply.body) as? [String: Any] ?? [:]
}

func replyIDs(_ reply: APIClient.Reply) throws -> [String] {
    (try replyObject(reply)["results"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
}

func jsonData(_ value: Any) throws -> Data { try JSONSerialization.data(withJSONObject: value) }
