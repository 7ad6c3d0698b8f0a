import Engine
import Foundation
import Metrics
import Prometheus

/// The service's Prometheus metrics, through swift-metrics. One registry per process
/// (swift-metrics is bootstrapped once); `/metrics` renders it.
///
/// - `http_server_request_duration_seconds{http_route,…}`: Hummingbird's per-route latency.
/// - `firebreak_search_duration_seconds{mode}`: engine time per search mode used.
/// - `firebreak_searches_total{mode,degraded}`: the fallback share is degraded / all.
/// - `firebreak_quarantine_activation_seconds`: request arrival → filters updated.
/// - `firebreak_requests_in_flight`.
/// - `firebreak_retrieval_log_dropped_total`: log entries dropped because the buffer was full
///   (the searches were served; their blast-radius record is missing).
/// - `firebreak_replica_applied_seq`: this replica's applied change-log position.
/// - `firebreak_collections_refusing_writes`: collections that refuse writes until a restart
/// - `firebreak_collections_unloaded`: collections start-up could not load (not served)
///   (alert on > 0).
public final class ServiceMetrics: @unchecked Sendable {
    public static let shared = ServiceMetrics()

    let registry: PrometheusCollectorRegistry
    private let quarantineActivation: Metrics.Timer
    private let inFlightGauge: Metrics.Gauge
    private let retrievalLogDropped: Metrics.Counter
    private let appliedSeq: Metrics.Gauge
    private let refusingWrites: Metrics.Gauge
    private let unloaded: Metrics.Gauge
    private let lock = NSLock()
    /// The drops already counted (the log keeps a running total; the counter gets the rest).
    private var droppedCounted = 0

    private init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2_500),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
        quarantineActivation = Metrics.Timer(label: "firebreak_quarantine_activation_seconds", preferredDisplayUnit: .seconds)
        inFlightGauge = Metrics.Gauge(label: "firebreak_requests_in_flight")
        retrievalLogDropped = Metrics.Counter(label: "firebreak_retrieval_log_dropped_total")
        appliedSeq = Metrics.Gauge(label: "firebreak_replica_applied_seq")
        refusingWrites = Metrics.Gauge(label: "firebreak_collections_refusing_writes")
        unloaded = Metrics.Gauge(label: "firebreak_collections_unloaded")
    }

    func searched(mode: SearchMode, degraded: Bool, nanoseconds: UInt64) {
        Metrics.Timer(label: "firebreak_search_duration_seconds", dimensions: [("mode", mode.rawValue)],
                      preferredDisplayUnit: .seconds).recordNanoseconds(Int64(nanoseconds))
        Metrics.Counter(label: "firebreak_searches_total", dimensions: [("mode", mode.rawValue), ("degraded", degraded ? "true" : "false")])
            .increment()
    }

    func quarantineActivated(nanoseconds: UInt64) {
        quarantineActivation.recordNanoseconds(Int64(nanoseconds))
    }

    func inFlight(_ count: Int) { inFlightGauge.record(count) }

    /// The Prometheus text exposition, with the values read at scrape time brought up to date.
    func render(collections: LiveCollections) -> String {
        let dropped = collections.retrievalLog.dropped
        lock.withLock {
            if dropped > droppedCounted { retrievalLogDropped.increment(by: Int64(dropped - droppedCounted)) }
            droppedCounted = max(droppedCounted, dropped)
        }
        appliedSeq.record(collections.replica.appliedSeq)
        refusingWrites.record(collections.all.filter { $0.writeRefusal != nil }.count)
        unloaded.record(collections.unloadedCollections.count)
        return registry.emitToString()
    }
}
