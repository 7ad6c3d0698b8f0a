import Crypto
import Foundation
import Hex

/// AWS access keys: from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and the optional
/// `AWS_SESSION_TOKEN`. `description` never shows the secret.
public struct S3Credentials: Sendable, Equatable, CustomStringConvertible {
    public let accessKeyID: String
    public let secretAccessKey: String
    public let sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The standard variables, or an error naming the missing one.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(S3Error) -> S3Credentials {
        guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty else {
            throw S3Error(.invalidInput, "AWS_ACCESS_KEY_ID is not set; an S3 snapshot store needs credentials")
        }
        guard let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            throw S3Error(.invalidInput, "AWS_SECRET_ACCESS_KEY is not set; an S3 snapshot store needs credentials")
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
    }

    public var description: String { "S3Credentials(\(accessKeyID), secret hidden\(sessionToken == nil ? "" : ", session token"))" }
}

/// What a request is signed over. `path` and the query items are plain text (a key as the
/// user wrote it); the signer and the client both use `encodedPath` and `encodedQuery`, so
/// the bytes signed are the bytes sent.
public struct S3Request: Sendable {
    public var method: String
    /// `/bucket/key` (path style) or `/key`, not yet percent-encoded.
    public var path: String
    public var query: [(name: String, value: String)]
    /// Header names in any case; `host` must be among them.
    public var headers: [(name: String, value: String)]
    /// Hex SHA-256 of the body (or `UNSIGNED-PAYLOAD`).
    public var payloadSHA256: String

    public init(method: String, path: String, query: [(name: String, value: String)] = [],
                headers: [(name: String, value: String)], payloadSHA256: String) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.payloadSHA256 = payloadSHA256
    }

    /// Every segment percent-encoded once (RFC 3986 unreserved characters kept), `/` kept.
    public var encodedPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { SigV4Signer.uriEncode(String($0)) }
            .joined(separator: "/")
    }

    /// Names and values encoded (`/`, `=`, `+` and spaces too), sorted by name then value.
    public var encodedQuery: String {
        let pairs: [(name: String, value: String)] = query.map { (SigV4Signer.uriEncode($0.name), SigV4Signer.uriEncode($0.value)) }
        let sorted = pairs.sorted { (a: (name: String, value: String), b: (name: String, value: String)) -> Bool in
            a.name == b.name ? a.value < b.value : a.name < b.name
        }
        return sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }
}

/// AWS Signature Version 4 (header form), as the SigV4 specification defines it: canonical
/// request, string to sign, derived signing key, signature. Pure: no clock, no I/O.
public struct SigV4Signer: Sendable {
    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public let credentials: S3Credentials
    public let region: String
    public let service: String

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// `20150830T123600Z` for `date` (UTC).
    public static func amzDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    public func scope(amzDate: String) -> String { "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request" }

    /// Lower-case names, sorted, joined by `;`.
    public func signedHeaders(_ request: S3Request) -> String {
        Set(request.headers.map { $0.name.lowercased() }).sorted().joined(separator: ";")
    }

    public func canonicalRequest(_ request: S3Request) -> String {
        var values: [String: [String]] = [:]
        for header in request.headers { values[header.name.lowercased(), default: []].append(Self.trimmed(header.value)) }
        let headers = values.keys.sorted().map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        return [request.method, request.encodedPath, request.encodedQuery, headers, signedHeaders(request),
                request.payloadSHA256].joined(separator: "\n")
    }

    public func stringToSign(canonicalRequest: String, amzDate: String) -> String {
        [Self.algorithm, amzDate, scope(amzDate: amzDate),
         SHA256.hash(data: Data(canonicalRequest.utf8)).hexEncoded].joined(separator: "\n")
    }

    /// Hex HMAC-SHA256 of the string to sign under the key derived for the day, region and service.
    public func signature(stringToSign: String, amzDate: String) -> String {
        var key = SymmetricKey(data: Data(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [String(amzDate.prefix(8)), region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return Data(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key)).hexEncoded
    }

    /// The `Authorization` header value. `request` must already carry `x-amz-date` (and
    /// `x-amz-content-sha256`, `x-amz-security-token` when S3 needs them).
    public func authorization(_ request: S3Request, amzDate: String) -> String {
        let signature = signature(stringToSign: stringToSign(canonicalRequest: canonicalRequest(request), amzDate: amzDate),
                                  amzDate: amzDate)
        return "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(amzDate: amzDate)), "
            + "SignedHeaders=\(signedHeaders(request)), Signature=\(signature)"
    }

    /// RFC 3986 percent-encoding of everything but `A-Z a-z 0-9 - . _ ~`, in upper-case hex.
    public static func uriEncode(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded += String(format: "%%%02X", byte)
            }
        }
        return encoded
    }

    /// Leading and trailing spaces removed, inner runs of spaces folded to one.
    static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
    }
}
