import Foundation

/// When and how long to wait before trying a request again: bounded exponential backoff with
/// full jitter (a random wait in 0…min(cap, base·2^attempt)). Pure, so the schedule is tested
/// without a server.
public struct RetryPolicy: Sendable, Equatable {
    /// Tries per request, the first included.
    public var attemptsMax = 5
    public var baseSeconds = 0.1
    public var capSeconds = 5.0

    public init(attemptsMax: Int = 5, baseSeconds: Double = 0.1, capSeconds: Double = 5.0) {
        precondition(attemptsMax >= 1 && baseSeconds > 0 && capSeconds >= baseSeconds)
        self.attemptsMax = attemptsMax
        self.baseSeconds = baseSeconds
        self.capSeconds = capSeconds
    }

    /// Whether an answer is worth another try: throttling, timeouts and server errors are;
    /// anything else S3 refused (a missing key, a bad signature, a failed precondition) is not.
    public static func isRetryable(status: Int, s3Code: String?) -> Bool {
        if let s3Code, ["SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError",
                        "ServiceUnavailable"].contains(s3Code) { return true }
        return status == 429 || status == 500 || status == 502 || status == 503 || status == 504
    }

    /// The longest wait before try `attempt + 1` (attempt counts from 0).
    public func ceilingSeconds(afterAttempt attempt: Int) -> Double {
        min(capSeconds, baseSeconds * pow(2, Double(min(attempt, 30))))
    }

    /// A jittered wait, `unit` in 0..<1 (a random draw in production).
    public func delaySeconds(afterAttempt attempt: Int, unit: Double = Double.random(in: 0..<1)) -> Double {
        ceilingSeconds(afterAttempt: attempt) * unit
    }
}
