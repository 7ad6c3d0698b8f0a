import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A small client of the Firebreak API, for the `firebreak` client commands and tests.
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

        /// The problem's `code` and `detail` when this is an error reply.
        public var problem: (code: String, detail: String)? {
            guard !isSuccess, let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
            return ((object["code"] as? String) ?? "http_\(status)", (object["detail"] as? String) ?? "")
        }

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
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
