import CoreMetrics
import Reactor

/// Metric names a backend must know (the latency histogram's buckets are set per name).
public enum HTTPMetricsNames {
    /// The request latency histogram.
    public static let duration = "mywebsite_http_request_duration_seconds"
}

/// The counters of one loop's HTTP engine, through swift-metrics: the process binds them to Prometheus (see
/// `App/Metrics`), and without a backend every call is a no-op. Every handle is made here, once, so a request
/// costs an index computation and a few atomic adds: no label lookup, no allocation.
///
/// Names and labels (the dashboard in `deployments/monitoring/` reads them):
/// - `mywebsite_http_requests_total{protocol, route, status}`: responses by `http/1.1` or `h2`, route kind,
///   status class (`2xx`…`5xx`).
/// - `mywebsite_http_response_body_bytes_total{protocol}`: body bytes queued (HEAD counts none).
/// - `mywebsite_http_request_duration_seconds{protocol}`: from the complete request head to its response
///   handed to the socket (HTTP/1.1) or its stream closed (HTTP/2).
/// - `mywebsite_connections_open{loop}`, `mywebsite_connections_idle{loop}`: refreshed every second.
/// - `mywebsite_http_rate_limited_total`: requests answered 429 by the rate limit.
final class HTTPMetrics {
    enum WireProtocol: Int, CaseIterable {
        case http1, http2

        var label: String { self == .http1 ? "http/1.1" : "h2" }
    }

    private static let statusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"]
    private let requests: [Counter]
    private let bodyBytes: [Counter]
    private let durations: [CoreMetrics.Timer]
    private let open: Gauge
    private let idle: Gauge
    let rateLimited: Counter

    init(loop: Int) {
        var requests: [Counter] = []
        for wire in WireProtocol.allCases {
            for route in RouteKind.allCases {
                for status in Self.statusClasses {
                    requests.append(
                        Counter(
                            label: "mywebsite_http_requests_total",
                            dimensions: [("protocol", wire.label), ("route", route.label), ("status", status)]))
                }
            }
        }
        self.requests = requests
        bodyBytes = WireProtocol.allCases.map {
            Counter(label: "mywebsite_http_response_body_bytes_total", dimensions: [("protocol", $0.label)])
        }
        durations = WireProtocol.allCases.map {
            CoreMetrics.Timer(label: HTTPMetricsNames.duration, dimensions: [("protocol", $0.label)])
        }
        open = Gauge(label: "mywebsite_connections_open", dimensions: [("loop", String(loop))])
        idle = Gauge(label: "mywebsite_connections_idle", dimensions: [("loop", String(loop))])
        rateLimited = Counter(label: "mywebsite_http_rate_limited_total")
    }

    /// One response, as it is queued.
    func responded(_ wire: WireProtocol, route: RouteKind, status: Int, bodyBytes count: Int) {
        let statusIndex = min(max(status / 100, 1), 5) - 1
        let index = (wire.rawValue * RouteKind.allCases.count + route.rawValue) * Self.statusClasses.count + statusIndex
        requests[index].increment()
        if count > 0 { bodyBytes[wire.rawValue].increment(by: count) }
    }

    /// One request's time, from `start` (`MonotonicClock.nanoseconds()`) to now.
    func finished(_ wire: WireProtocol, since start: UInt64, count: Int = 1) {
        let elapsed = Int64(MonotonicClock.nanoseconds() &- start)
        for _ in 0..<count { durations[wire.rawValue].recordNanoseconds(elapsed) }
    }

    func connections(open openCount: Int, idle idleCount: Int) {
        open.record(openCount)
        idle.record(idleCount)
    }
}
