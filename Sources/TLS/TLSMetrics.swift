import CoreMetrics

/// TLS handshakes, through swift-metrics (a no-op until the process binds a backend):
/// `mywebsite_tls_handshakes_total{result, protocol, cipher}` (`result`: `ok`, `failed`, `timeout`; failures
/// carry `protocol="none"`, `cipher="none"`) and `mywebsite_tls_resumptions_total{protocol}`. A handshake costs
/// far more than the label lookup, so handles are made per event.
enum TLSMetrics {
    static func handshakeSucceeded(_ session: TLSSession) {
        let version = session.protocolVersion.map { "\($0)" } ?? "unknown"
        Counter(
            label: "mywebsite_tls_handshakes_total",
            dimensions: [("result", "ok"), ("protocol", version), ("cipher", session.cipher ?? "unknown")]
        ).increment()
        if session.isResumed {
            Counter(label: "mywebsite_tls_resumptions_total", dimensions: [("protocol", version)]).increment()
        }
    }

    static func handshakeFailed(timedOut: Bool) {
        Counter(
            label: "mywebsite_tls_handshakes_total",
            dimensions: [("result", timedOut ? "timeout" : "failed"), ("protocol", "none"), ("cipher", "none")]
        ).increment()
    }
}
