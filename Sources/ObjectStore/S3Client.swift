import AsyncHTTPClient
import Crypto
import Foundation
import Hex
import NIOCore
import NIOHTTP1

/// One bucket of an S3-compatible store. Every call blocks until S3 answers (see the module
/// header); failures are `S3Error`s, retried first when `RetryPolicy` says a retry can help.
public final class S3Client: Sendable {
    public struct Configuration: Sendable {
        public var bucket: String
        public var region: String
        public var credentials: S3Credentials
        /// A custom endpoint (`http://127.0.0.1:9000`) is addressed path-style
        /// (`/bucket/key`); without one, AWS's virtual-hosted `https://bucket.s3.region.amazonaws.com`.
        public var endpoint: URL?
        public var retry = RetryPolicy()
        /// The deadline of one attempt.
        public var attemptSecondsMax = 120.0
        /// Files above this go up as multipart uploads…
        public var multipartThresholdBytes = 64 << 20
        /// …in parts of this size (S3's minimum is 5 MiB), one part in memory at a time.
        public var partBytes = 16 << 20
        /// Largest answer read into memory (manifests, listings, errors); objects stream to disk.
        public var responseBytesMax = 16 << 20

        public init(bucket: String, region: String, credentials: S3Credentials, endpoint: URL? = nil) {
            self.bucket = bucket
            self.region = region
            self.credentials = credentials
            self.endpoint = endpoint
        }
    }

    /// S3's answer to one request.
    public struct Response: Sendable {
        public let status: Int
        public let headers: HTTPHeaders
        public let body: [UInt8]
        public var text: Substring { String(decoding: body, as: UTF8.self)[...] }
    }

    public let configuration: Configuration
    let signer: SigV4Signer
    /// Calls to fail on purpose, for tests of interrupted uploads (see `S3Faults`).
    public let faults = S3Faults()

    public init(_ configuration: Configuration) {
        precondition(configuration.partBytes >= 5 << 20 || configuration.endpoint != nil, "S3 parts are at least 5 MiB")
        precondition(configuration.multipartThresholdBytes >= configuration.partBytes)
        self.configuration = configuration
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
    }

    /// Where requests go: scheme, host (with a non-default port) and the path prefix of the bucket.
    var address: (base: String, host: String, bucketPath: String) {
        if let endpoint = configuration.endpoint {
            let scheme = endpoint.scheme ?? "http", host = endpoint.host ?? "127.0.0.1"
            let hostHeader = endpoint.port.map { "\(host):\($0)" } ?? host
            return ("\(scheme)://\(hostHeader)", hostHeader, "/" + configuration.bucket)
        }
        let host = "\(configuration.bucket).s3.\(configuration.region).amazonaws.com"
        return ("https://\(host)", host, "")
    }

    /// Signs and sends one request, retrying what `RetryPolicy` allows. `sink` receives the
    /// body of a 2xx answer when given (a file download); otherwise the body is collected.
    func send(_ method: HTTPMethod, key: String?, query: [(name: String, value: String)] = [],
              headers extra: [(name: String, value: String)] = [], body: [UInt8] = [],
              payloadSHA256: String? = nil, expect: Set<Int> = [200], sink: FileSink? = nil)
        throws(S3Error) -> Response {
        let hash = payloadSHA256 ?? SHA256.hash(data: body).hexEncoded
        var attempt = 0
        while true {
            let outcome: Result<Response, S3Error>
            do {
                if attempt > 0 { try sink?.reset() }
                outcome = .success(try sendOnce(method, key: key, query: query, headers: extra, body: body,
                                                payloadSHA256: hash, sink: sink))
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let response) where expect.contains(response.status):
                return response
            case .success(let response):
                let s3Code = XMLFields.value("Code", in: response.text)
                let message = XMLFields.value("Message", in: response.text) ?? "HTTP \(response.status)"
                let error = S3Error(S3Error.code(status: response.status, s3Code: s3Code),
                                    "\(method.rawValue) \(key ?? "/"): \(message)", status: response.status, s3Code: s3Code)
                guard RetryPolicy.isRetryable(status: response.status, s3Code: s3Code),
                      attempt + 1 < configuration.retry.attemptsMax else { throw error }
            case .failure(let error):
                guard error.code == .transport, attempt + 1 < configuration.retry.attemptsMax else { throw error }
            }
            Thread.sleep(forTimeInterval: configuration.retry.delaySeconds(afterAttempt: attempt))
            attempt += 1
        }
    }

    private func sendOnce(_ method: HTTPMethod, key: String?, query: [(name: String, value: String)],
                          headers extra: [(name: String, value: String)], body: [UInt8], payloadSHA256: String,
                          sink: FileSink?) throws(S3Error) -> Response {
        let (base, host, bucketPath) = address
        let amzDate = SigV4Signer.amzDate(Date())
        var headers: [(name: String, value: String)] = [("host", host), ("x-amz-date", amzDate),
                                                         ("x-amz-content-sha256", payloadSHA256)] + extra
        if let token = configuration.credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        let path = bucketPath + (key.map { "/" + $0 } ?? (bucketPath.isEmpty ? "/" : ""))
        let signed = S3Request(method: method.rawValue, path: path, query: query, headers: headers, payloadSHA256: payloadSHA256)
        headers.append(("authorization", signer.authorization(signed, amzDate: amzDate)))
        let url = base + signed.encodedPath + (query.isEmpty ? "" : "?" + signed.encodedQuery)
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: url, method: method, headers: HTTPHeaders(headers.map { ($0.name, $0.value) }),
                                             body: body.isEmpty && method != .PUT && method != .POST ? nil : .bytes(body))
        } catch {
            throw S3Error(.invalidInput, "cannot build a request for \(url): \(error)")
        }
        let delegate = ResponseSink(file: sink, bytesMax: configuration.responseBytesMax)
        let deadline = NIODeadline.now() + .milliseconds(Int64(configuration.attemptSecondsMax * 1_000))
        do {
            return try HTTPClient.shared.execute(request: request, delegate: delegate, deadline: deadline).wait()
        } catch let error as S3Error {
            throw error
        } catch {
            throw S3Error(.transport, "\(method.rawValue) \(url): \(error)")
        }
    }
}

/// Fail points for tests: `failUploadPart(after: n)` makes every part after the n-th fail as
/// if the connection dropped, so an interrupted multipart upload can be observed; with
/// `abandon` the upload is not aborted either, as when the process dies mid-upload.
public final class S3Faults: @unchecked Sendable {
    private let lock = NSLock()
    private var partsAllowed: Int?
    private var abandon = false

    public func failUploadPart(after parts: Int?, abandon: Bool = false) {
        lock.lock(); partsAllowed = parts; self.abandon = abandon; lock.unlock()
    }

    var abandonsUploads: Bool { lock.lock(); defer { lock.unlock() }; return abandon }

    func partMayUpload(number: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard let partsAllowed else { return true }
        return number <= partsAllowed
    }
}
