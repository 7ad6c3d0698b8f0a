import Incidents
import Instrumentation
import Tracing

/// Spans of this service's work: a request (the server's middleware), and the steps of
/// containment (quarantine, snapshot, rollback, rebuild, scan) as its children. They are
/// exported over OTLP when `firebreak serve` bootstrapped a tracer (OTEL_EXPORTER_OTLP_ENDPOINT
/// set); without one (the default, and every in-process test) they cost next to nothing and
/// `TraceContext` keeps ids of its own. Either way, the timeline events a span's work appends
/// record that span's trace and span id.
public enum Spans {
    /// Runs `body` as a span named `name`, a child of the current span (`InstrumentationContext.current`),
    /// with the span's ids as the current `TraceContext`; an error ends the span as failed.
    /// Without a tracer, `body` runs under `fallback` (default: the current `TraceContext`).
    public static func run<T, E: Error>(_ name: String, kind: SpanKind = .internal, parent: InstrumentationContext? = nil,
                                        attributes: [String: String] = [:], fallback: TraceContext? = TraceContext.current,
                                        _ body: () async throws(E) -> T) async throws(E) -> T {
        let span = InstrumentationSystem.tracer.startSpan(name, context: parent ?? InstrumentationContext.current ?? .topLevel,
                                                          ofKind: kind)
        for (key, value) in attributes { span.attributes[key] = value }
        let trace = Self.trace(of: span.context) ?? fallback
        let result: Result<T, E> = await InstrumentationContext.withValue(span.context) {
            await TraceContext.$current.withValue(trace) {
                do throws(E) { return .success(try await body()) } catch { return .failure(error) }
            }
        }
        if case .failure(let error) = result {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
        }
        span.end()
        return try result.get()
    }

    /// The W3C ids of a span's context, as the process's tracer propagates them; nil when no
    /// tracer is bootstrapped (the no-op tracer injects nothing).
    public static func trace(of context: InstrumentationContext) -> TraceContext? {
        var carrier: [String: String] = [:]
        InstrumentationSystem.tracer.inject(context, into: &carrier, using: DictionaryInjector())
        return carrier["traceparent"].flatMap { TraceContext(traceparent: $0) }
    }
}

/// Writes propagated fields (`traceparent`, `tracestate`) into a dictionary.
struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key.lowercased()] = value
    }
}
