import FirebreakAPI
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// A small OTLP/HTTP receiver (JSON encoding): keeps the spans of every `POST /v1/traces`.
final class OTLPReceiver: @unchecked Sendable {
    struct Span: Equatable {
        let traceID: String
        let spanID: String
        let parentSpanID: String
        let name: String
    }

    let port: Int
    private let lock = NSLock()
    private var received: [Span] = []
    private var task: Task<Void, any Error>?
    private var group: ServiceGroup?

    private init(port: Int) { self.port = port }

    func spans() -> [Span] { lock.withLock { received } }

    static func start() async throws -> OTLPReceiver {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let holder = Holder()
        let router = Router()
        router.post("/v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            holder.receiver?.record(Data(buffer: body))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) })
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "otlp-receiver")))
        let task = Task { try await group.run() }
        let port = await ports.first { _ in true } ?? 0
        let receiver = OTLPReceiver(port: port)
        receiver.task = task
        receiver.group = group
        holder.receiver = receiver
        return receiver
    }

    func stop() async {
        await group?.triggerGracefulShutdown()
        _ = try? await task?.value
    }

    /// OTLP/JSON: resourceSpans[].scopeSpans[].spans[], ids as hex (the spec) or base64 (the
    /// protobuf JSON mapping of bytes): both are read.
    private func record(_ body: Data) {
        guard let root = try? JSONDecoder().decode(JSONValue.self, from: body) else { return }
        var found: [Span] = []
        for resource in root["resourceSpans"]?.arrayValue ?? [] {
            for scope in resource["scopeSpans"]?.arrayValue ?? [] {
                for span in scope["spans"]?.arrayValue ?? [] {
                    found.append(Span(traceID: Self.hex(span["traceId"]), spanID: Self.hex(span["spanId"]),
                                      parentSpanID: Self.hex(span["parentSpanId"]), name: span["name"]?.stringValue ?? ""))
                }
            }
        }
        lock.withLock { received += found }
    }

    private static func hex(_ value: JSONValue?) -> String {
        guard let text = value?.stringValue, !text.isEmpty else { return "" }
        if text.allSatisfy(\.isHexDigit), text.count == 16 || text.count == 32 { return text.lowercased() }
        guard let bytes = Data(base64Encoded: text) else { return text }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }

    private final class Holder: @unchecked Sendable { var receiver: OTLPReceiver? }
}

extension JSONValue {
    subscript(key: String) -> JSONValue? { if case .object(let fields) = self { fields[key] } else { nil } }
    var arrayValue: [JSONValue]? { if case .array(let values) = self { values } else { nil } }
    var stringValue: String? { if case .string(let value) = self { value } else { nil } }
}
