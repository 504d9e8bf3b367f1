import CoreMetrics
import HTTP
import Prometheus
import Reactor
import Site
import TLS

/// The process's metrics: swift-metrics bound to a Prometheus registry (HTTP and TLS count through
/// swift-metrics), the gauges only the process knows (content generation, reloads, certificate expiry, loop
/// lag), and the `/metrics` responder of the separate metrics listener.
///
/// Made only when `--metrics-port` is set. Otherwise the HTTP engine keeps no counters at all, and TLS handshakes
/// count into swift-metrics' no-op backend.
final class ProcessMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let generation: Prometheus.Gauge
    private let lastReloadSuccess: Prometheus.Gauge
    private let contentReloads: [Bool: Prometheus.Counter]
    private let tlsReloads: [Bool: Prometheus.Counter]
    private let startTime: Prometheus.Gauge
    private let acceptErrors: Locked<[CInt: Prometheus.Counter]> = Locked([:])
    private let refusals: [ConnectionLimiter.Refusal: Prometheus.Counter]
    private let proxyFailures: Prometheus.Counter
    private let certificateGauges: Locked<[String: (expiry: Prometheus.Gauge, remaining: Prometheus.Gauge)]> =
        Locked([:])
    private let loopLag: Locked<[Int: Prometheus.Gauge]> = Locked([:])

    /// Latency buckets: a cached page takes tens of microseconds, a slow client seconds.
    static let durationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    init() {
        generation = registry.makeGauge(
            descriptor: describe("mywebsite_content_generation", "Number of the content generation being served."))
        lastReloadSuccess = registry.makeGauge(
            descriptor: describe(
                "mywebsite_content_last_reload_success",
                "1 if the last content reload that loaded something succeeded, 0 if it was refused."))
        lastReloadSuccess.set(Double(1))
        contentReloads = Self.counters(
            registry, "mywebsite_content_reloads_total", "Content reloads by result.", label: "result",
            [(true, "ok"), (false, "refused")])
        tlsReloads = Self.counters(
            registry, "mywebsite_tls_reloads_total", "Certificate reloads by result.", label: "result",
            [(true, "ok"), (false, "refused")])
        startTime = registry.makeGauge(
            descriptor: describe(
                "mywebsite_process_start_time_seconds", "Start time of the process, seconds since the epoch."))
        startTime.set(Double(WallClock.now()))
        refusals = Self.counters(
            registry, "mywebsite_connections_refused_total",
            "Connections closed at accept by --max-connections-per-ip or --max-connections.", label: "reason",
            [(.perClient, "per_ip"), (.total, "total")])
        proxyFailures = registry.makeCounter(
            descriptor: describe(
                "mywebsite_proxy_protocol_errors_total",
                "Connections closed for a missing or malformed PROXY protocol header."))
    }

    /// One counter family with one series per `values` entry, keyed for the caller.
    private static func counters<Key: Hashable>(
        _ registry: PrometheusCollectorRegistry, _ name: String, _ help: String, label: String,
        _ values: [(Key, String)]
    ) -> [Key: Prometheus.Counter] {
        var counters: [Key: Prometheus.Counter] = [:]
        for (key, value) in values {
            counters[key] = registry.makeCounter(descriptor: describe(name, help), labels: [(label, value)])
        }
        return counters
    }

    /// Makes swift-metrics count into `registry`. Once per process.
    func bootstrap() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [HTTPMetricsNames.duration: Self.durationBuckets]
        MetricsSystem.bootstrap(DescribedMetricsFactory(base: factory, registry: registry))
    }

    // MARK: - Events

    func contentReloaded(_ outcome: ReloadOutcome, generationNumber: Int) {
        contentGeneration(generationNumber)
        switch outcome {
        case .unchanged: break
        case .reloaded:
            contentReloads[true]?.increment()
            lastReloadSuccess.set(Double(1))
        case .refused:
            contentReloads[false]?.increment()
            lastReloadSuccess.set(Double(0))
        }
    }

    func contentGeneration(_ number: Int) { generation.set(Double(number)) }

    func certificatesReloaded(success: Bool) { tlsReloads[success]?.increment() }

    func refused(_ reason: ConnectionLimiter.Refusal) { refusals[reason]?.increment() }

    func proxyHeaderFailed() { proxyFailures.increment() }

    func acceptFailed(_ error: SystemError) {
        let counter = acceptErrors.withLock { counters in
            if let counter = counters[error.errno] { return counter }
            let counter = registry.makeCounter(
                descriptor: describe(
                    "mywebsite_accept_errors_total", "Failed accept4 calls by errno (EMFILE: out of descriptors)."),
                labels: [("errno", Syscall.errnoName(error.errno))])
            counters[error.errno] = counter
            return counter
        }
        counter.increment()
    }

    // MARK: - Every second, from the watchdog thread

    func publish(certificates: [CertificateSummary], loops: [LoopHandle], now: Int64) {
        for certificate in certificates {
            for name in certificate.names {
                let gauges = certificateGauges.withLock { gauges in
                    if let existing = gauges[name] { return existing }
                    let made = (
                        expiry: registry.makeGauge(
                            descriptor: describe(
                                "mywebsite_tls_certificate_expiry_timestamp_seconds",
                                "notAfter of the certificate served for this name, seconds since the epoch."),
                            labels: [("name", name)]),
                        remaining: registry.makeGauge(
                            descriptor: describe(
                                "mywebsite_tls_certificate_expires_in_seconds",
                                "Seconds until the certificate served for this name expires."), labels: [("name", name)]
                        )
                    )
                    gauges[name] = made
                    return made
                }
                gauges.expiry.set(Double(certificate.notAfter))
                gauges.remaining.set(Double(certificate.notAfter - now))
            }
        }
        for loop in loops {
            let gauge = loopLag.withLock { gauges in
                if let gauge = gauges[loop.id] { return gauge }
                let gauge = registry.makeGauge(
                    descriptor: describe(
                        "mywebsite_loop_lag_seconds",
                        "Longest turn of the loop over the last second: how long a ready connection may wait."),
                    labels: [("loop", String(loop.id))])
                gauges[loop.id] = gauge
                return gauge
            }
            gauge.set(Double(loop.lag) / 1000)
        }
    }
}

/// A metric's full name and its `# HELP` text.
private func describe(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
}

/// `GET /metrics` in the Prometheus text format (0.0.4); anything else 404. Served on the metrics listener
/// only.
struct MetricsResponder: Responder {
    let metrics: ProcessMetrics

    func respond(to request: Request, context: RequestContext) -> Response {
        guard request.path == "/metrics" else {
            return .text(.notFound, "Not found: this listener serves /metrics only.\n")
        }
        return Response(
            status: .ok,
            headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8"), ("Cache-Control", "no-store")],
            body: .bytes(Bytes(metrics.registry.emitToBuffer())))
    }
}

/// The swift-metrics backend: PrometheusMetricsFactory, but the metrics this server emits through swift-metrics
/// get their `# HELP` line (swift-metrics has no help text; `promtool check metrics` asks for one). Names not
/// listed here go to the plain factory.
struct DescribedMetricsFactory: MetricsFactory {
    let base: PrometheusMetricsFactory
    let registry: PrometheusCollectorRegistry

    static let help: [String: String] = [
        "mywebsite_http_requests_total": "Responses by protocol (http/1.1, h2), route kind and status class.",
        "mywebsite_http_response_body_bytes_total": "Response body bytes queued, by protocol (HEAD counts none).",
        HTTPMetricsNames.duration:
            "From the complete request head to the response handed to the socket (HTTP/1.1) or its stream closed (h2).",
        "mywebsite_connections_open": "Open connections of a loop, refreshed every second.",
        "mywebsite_connections_idle": "Keep-alive connections of a loop waiting for a request, refreshed every second.",
        "mywebsite_http_rate_limited_total": "Requests answered 429 by --rate-limit.",
        "mywebsite_accepts_total": "Connections accepted, by listener.",
        "mywebsite_tls_handshakes_total": "TLS handshakes by result (ok, failed, timeout), protocol and cipher.",
        "mywebsite_tls_resumptions_total": "TLS handshakes that resumed a session (ticket or cache), by protocol.",
    ]

    private func descriptor(_ label: String) -> MetricNameDescriptor? {
        Self.help[label].map { MetricNameDescriptor(metricName: label, unitName: "", helpText: $0) }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard let descriptor = descriptor(label) else { return base.makeCounter(label: label, dimensions: dimensions) }
        return dimensions.isEmpty
            ? registry.makeCounter(descriptor: descriptor)
            : registry.makeCounter(descriptor: descriptor, labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        base.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard !aggregate, let descriptor = descriptor(label) else {
            return base.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
        }
        if dimensions.isEmpty { return registry.makeGauge(descriptor: descriptor) }
        return registry.makeGauge(descriptor: descriptor, labels: dimensions)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        base.makeMeter(label: label, dimensions: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard let descriptor = descriptor(label) else { return base.makeTimer(label: label, dimensions: dimensions) }
        let buckets = base.durationHistogramBuckets[label] ?? base.defaultDurationHistogramBuckets
        return registry.makeDurationHistogram(descriptor: descriptor, labels: dimensions, buckets: buckets)
    }

    func destroyCounter(_ handler: any CounterHandler) { base.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        base.destroyFloatingPointCounter(handler)
    }
    func destroyRecorder(_ handler: any RecorderHandler) { base.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { base.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { base.destroyTimer(handler) }
}
