import Foundation
import Hex

/// The W3C trace a piece of work runs under: the trace id, and the id of this service's span
/// doing the work. While one is current, every timeline event appended records both
/// (`trace_id`, `span_id` in its payload, so the hash chain covers them), and the
/// postmortem's chronology links each step to its trace.
public struct TraceContext: Sendable, Equatable {
    /// 32 lower-case hex digits, not all zero.
    public let traceID: String
    /// 16 lower-case hex digits, not all zero.
    public let spanID: String

    /// The trace of the request or job running on this task (and, through `ConnectionPool`,
    /// on the connection thread it hands work to).
    @TaskLocal public static var current: TraceContext?

    public static let traceIDKey = "trace_id"
    public static let spanIDKey = "span_id"

    public init?(traceID: String, spanID: String) {
        guard Self.isHex(traceID, count: 32), Self.isHex(spanID, count: 16) else { return nil }
        self.traceID = traceID
        self.spanID = spanID
    }

    /// A new span of the trace a W3C `traceparent` names (its span is the parent), or of a new
    /// trace when there is none or it is malformed. As the recommendation asks, a version this
    /// build does not know (any but `ff`) is read for its first four fields.
    public init(continuing traceparent: String?) {
        let parts = traceparent?.split(separator: "-", omittingEmptySubsequences: false) ?? []
        let known = parts.count == 4 || (parts.count > 4 && parts[0] != "00")
        let version = parts.first.map(String.init) ?? ""
        let trace = known && version.count == 2 && version != "ff" && version.allSatisfy(\.isHexDigit) && version == version.lowercased()
            && Self.isHex(String(parts[1]), count: 32) ? String(parts[1]) : Self.randomHex(bytes: 16)
        self.init(traceID: trace, spanID: Self.randomHex(bytes: 8))!
    }

    /// The span a `traceparent` names, exactly (its own span id, not a child): for a span a
    /// tracer started, as the tracer propagates it. Nil for a malformed value.
    public init?(traceparent: String) {
        let parts = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "00" else { return nil }
        self.init(traceID: String(parts[1]), spanID: String(parts[2]))
    }

    /// This span as a `traceparent` header value (sampled).
    public var traceparent: String { "00-\(traceID)-\(spanID)-01" }

    /// `payload` with this trace's ids added (ids already there are kept).
    public func stamped(_ payload: PayloadFields) -> PayloadFields {
        payload.merging([Self.traceIDKey: .string(traceID), Self.spanIDKey: .string(spanID)]) { given, _ in given }
    }

    static func isHex(_ text: String, count: Int) -> Bool {
        text.utf8.count == count && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
            && text.utf8.contains { $0 != 0x30 }
    }

    /// `bytes` random bytes as hex, never all zero (W3C forbids an all-zero id). Runs once or
    /// twice per request, so it uses the shared `Hex` encoder, not a formatter per byte.
    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        while true {
            let random = (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if random.contains(where: { $0 != 0 }) { return random.hexEncoded }
        }
    }
}
