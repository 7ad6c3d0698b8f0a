import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A small client of the Firebreak API, for the `firebreak` client commands, the drill and
/// the tests: bytes in and out; the bodies are this module's types.
/// Every mutating call carries an Idempotency-Key (a fresh UUID unless one is given).
public struct APIClient: Sendable {
    public static let responseBytesMax = 64 << 20
    public static let timeoutSeconds: Int64 = 120

    public let baseURL: String
    public let token: String?

    /// Whether a redirect is followed (the default) or answered as is (the console's tests
    /// read its 303s and their cookies).
    public var followsRedirects = true

    public init(baseURL: String, token: String?) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
    }

    /// A client that answers redirects as they come (one per process, like `HTTPClient.shared`).
    private static let withoutRedirects: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public struct Reply: Sendable {
        public let status: Int
        public let body: Data
        public let headers: [(String, String)]

        public var isSuccess: Bool { (200..<300).contains(status) }

        /// The problem details when this is an error reply with a problem body.
        public var problem: ProblemDetails? {
            guard !isSuccess else { return nil }
            return try? JSONDecoder.api.decode(ProblemDetails.self, from: body)
        }

        /// The reply decoded as `type` (a reply that does not match it is an error naming the field).
        public func decoded<Value: Decodable>(_ type: Value.Type) throws -> Value {
            try JSONDecoder.api.decode(type, from: body)
        }

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    /// Sends `body` encoded as the contract encodes it.
    public func send(_ method: String, _ path: String, body: some Encodable, idempotencyKey: String? = nil,
                     headers extra: [String: String] = [:]) async throws -> Reply {
        try await send(method, path, json: try JSONEncoder.api.encode(body), idempotencyKey: idempotencyKey, headers: extra)
    }

    public func send(_ method: String, _ path: String, json: Data? = nil, idempotencyKey: String? = nil,
                     headers extra: [String: String] = [:]) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = HTTPMethod(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json))
        }
        if method != "GET" && method != "HEAD" {
            request.headers.add(name: "Idempotency-Key", value: idempotencyKey ?? UUID().uuidString)
        }
        for (name, value) in extra { request.headers.replaceOrAdd(name: name, value: value) }
        let client = followsRedirects ? HTTPClient.shared : Self.withoutRedirects
        let response = try await client.execute(request, timeout: .seconds(Self.timeoutSeconds))
        let body = try await response.body.collect(upTo: Self.responseBytesMax)
        return Reply(status: Int(response.status.code), body: Data(body.readableBytesView),
                     headers: response.headers.map { ($0.name, $0.value) })
    }
}
