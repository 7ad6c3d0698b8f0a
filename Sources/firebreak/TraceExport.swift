import Foundation
import Instrumentation
import OTel
import ServiceLifecycle

/// OTLP export of the spans `firebreak serve` makes (requests, and the steps of containment
/// under them), when the standard OpenTelemetry environment names an endpoint. Off otherwise:
/// no tracer is bootstrapped and spans are no-ops.
///
/// The exporter honours the standard variables (swift-otel reads them):
/// `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (which turn it on),
/// `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`, the default here, or `http/json`),
/// `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME` (default `firebreak`),
/// `OTEL_BSP_SCHEDULE_DELAY` (ms between batches), `OTEL_TRACES_SAMPLER`. Logs and metrics are not
/// exported this way (metrics are on `/metrics`).
enum TraceExport {
    static let endpointVariables = ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"]

    /// Bootstraps the process's tracer and returns the exporter's service (to run beside the
    /// server: it sends batches and flushes at shutdown); nil when no endpoint is set.
    static func bootstrap(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (any Service)? {
        guard let variable = endpointVariables.first(where: { environment[$0]?.isEmpty == false }) else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "firebreak"
        configuration.diagnosticLogLevel = .warning  // not a line per variable read at start
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(backend.factory)
        Console.progress("exporting traces over OTLP to \(environment[variable] ?? "") (\(variable))")
        return backend.service
    }
}
