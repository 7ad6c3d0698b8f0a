import Foundation

/// Why a typed call did not return its value: the service refused the request (its status
/// and problem), or the reply does not match the type asked for (the field that differs).
public enum CallError: Error, CustomStringConvertible, Sendable {
    case refused(request: String, status: Int, problem: ProblemDetails?, body: String)
    case unexpectedReply(request: String, field: String)

    public var description: String {
        switch self {
        case let .refused(request, status, problem, body):
            if let problem { return "\(request): \(status) \(problem.code): \(problem.detail)" }
            return "\(request): \(status) \(body.prefix(300))"
        case let .unexpectedReply(request, field): return "\(request): the reply does not match: \(field)"
        }
    }
}

extension APIClient.Reply {
    /// This reply when it is a success; `CallError.refused` (naming `request`) otherwise.
    @discardableResult
    public func succeeded(_ request: String = "the request") throws(CallError) -> Self {
        guard isSuccess else {
            throw .refused(request: request, status: status, problem: problem, body: String(decoding: body, as: UTF8.self))
        }
        return self
    }
}

extension APIClient {
    /// Sends a request (`body` encoded as the contract encodes it) and returns the reply if it
    /// succeeded; a refusal is `CallError.refused` naming the request, status, code and detail.
    @discardableResult
    public func succeeded(_ method: String, _ path: String, body: (any Encodable)? = nil,
                          headers: [String: String] = [:]) async throws -> Reply {
        let json = try body.map { try JSONEncoder.api.encode($0) }
        return try await send(method, path, json: json, headers: headers).succeeded("\(method) \(path)")
    }

    /// Sends a request and decodes its reply as `type`: the one typed call the CLI, the drill
    /// and the benchmarks share. A refusal is `CallError.refused`; a reply that does not match
    /// `type` is `CallError.unexpectedReply` naming the field.
    public func call<Value: Decodable>(_ method: String, _ path: String, body: (any Encodable)? = nil,
                                       as type: Value.Type) async throws -> Value {
        let reply = try await succeeded(method, path, body: body)
        do {
            return try reply.decoded(type)
        } catch let error as DecodingError {
            throw CallError.unexpectedReply(request: "\(method) \(path)", field: error.fieldDescription)
        }
    }
}
