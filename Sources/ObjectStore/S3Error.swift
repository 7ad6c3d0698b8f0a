/// The one error type of ObjectStore: what went wrong, with S3's own code and HTTP status
/// when S3 answered. Switch on `code`; `s3Code` and `message` are for people.
public struct S3Error: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case noSuchKey = "no_such_key"
        case noSuchBucket = "no_such_bucket"
        /// `If-None-Match: *` found the key already there (or another precondition failed).
        case preconditionFailed = "precondition_failed"
        case signatureDoesNotMatch = "signature_does_not_match"
        case accessDenied = "access_denied"
        case invalidAccessKey = "invalid_access_key"
        /// S3 kept answering SlowDown/503 (or a timeout) after every retry.
        case throttled
        /// The body did not match the checksum sent with it.
        case badDigest = "bad_digest"
        /// A response arrived but is not what the call expects (status or body).
        case unexpectedResponse = "unexpected_response"
        /// The connection failed, or no answer came before the deadline, after every retry.
        case transport
        /// A local file could not be read or written.
        case io
        case invalidInput = "invalid_input"
    }

    public let code: Code
    public let message: String
    /// The HTTP status S3 answered with, when it answered.
    public let status: Int?
    /// S3's `<Code>` element (`NoSuchKey`, `SlowDown`, …), when it sent one.
    public let s3Code: String?

    public init(_ code: Code, _ message: String, status: Int? = nil, s3Code: String? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.s3Code = s3Code
    }

    public var description: String {
        var text = code.rawValue
        if let status { text += " (HTTP \(status)\(s3Code.map { " \($0)" } ?? ""))" }
        return text + ": " + message
    }

    /// The code for S3's answer: its `<Code>` element first, the status otherwise.
    static func code(status: Int, s3Code: String?) -> Code {
        switch s3Code {
        case "NoSuchKey": return .noSuchKey
        case "NoSuchBucket": return .noSuchBucket
        case "PreconditionFailed": return .preconditionFailed
        case "SignatureDoesNotMatch": return .signatureDoesNotMatch
        case "AccessDenied": return .accessDenied
        case "InvalidAccessKeyId", "InvalidClientTokenId", "InvalidToken", "ExpiredToken": return .invalidAccessKey
        case "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "ServiceUnavailable": return .throttled
        case "BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch": return .badDigest
        default: break
        }
        switch status {
        case 404: return .noSuchKey
        case 412: return .preconditionFailed
        case 403: return .accessDenied
        case 429, 500...599: return .throttled
        default: return .unexpectedResponse
        }
    }
}
