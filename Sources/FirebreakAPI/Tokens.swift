import Foundation

// `POST /v1/tokens`.

public struct CreateTokenBody: Codable, Sendable {
    public var role: String
    public var tenant: String?

    public init(role: String, tenant: String? = nil) {
        self.role = role
        self.tenant = tenant
    }
}

public struct TokenBody: Codable, Sendable {
    public var token: String
    public var role: String
    public var tenant: String?

    public init(token: String, role: String, tenant: String? = nil) {
        self.token = token
        self.role = role
        self.tenant = tenant
    }
}
