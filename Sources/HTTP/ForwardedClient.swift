import Reactor

/// Who the client is, from the socket peer and — only when the peer is a trusted proxy — `X-Forwarded-For`,
/// `X-Forwarded-Proto` and `X-Forwarded-Host`.
enum ForwardedClient {
    /// The request context for `request` received from `peer` (`peerText`: its `ipString`) on a stream that is
    /// (or is not) TLS.
    static func context(
        for request: Request, peer: SocketAddress, peerText: String, secure: Bool, trusted: TrustedProxies,
        now: Int64
    ) -> RequestContext {
        var client = peerText
        var clientHost = peer.host
        var scheme = secure ? "https" : "http"
        var host = request.host
        if trusted.contains(peer.host) {
            // X-Forwarded-For lists hops left to right; each proxy appends the address it saw. Walking from the
            // right, the first address that is not itself a trusted proxy is the client (nginx real_ip_recursive).
            let hops = request.headers("X-Forwarded-For").flatMap { $0.split(separator: ",") }
                .map { String($0).trimmingASCIISpaces() }
            for hop in hops.reversed() {
                guard let address = SocketAddress(ip: hop) else { break }
                client = address.ipString
                clientHost = address.host
                if !trusted.contains(address.host) { break }
            }
            if let proto = request.header("X-Forwarded-Proto")?.trimmingASCIISpaces().lowercased(),
                proto == "https" || proto == "http"
            {
                scheme = proto
            }
            if let forwardedHost = request.header("X-Forwarded-Host")?.split(separator: ",").first
                .map({ String($0).trimmingASCIISpaces() }), isValidHost(forwardedHost)
            {
                host = forwardedHost
            }
        }
        return RequestContext(
            peer: peer, clientAddress: client, scheme: scheme, host: host, now: now, clientHost: clientHost)
    }

    /// A host (reg-name, IPv4 or bracketed IPv6) with an optional port: letters, digits, `-._:[]`.
    static func isValidHost(_ host: String) -> Bool {
        !host.isEmpty && host.utf8.count <= 255
            && host.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7a) || c == 0x2d || c == 0x2e
                    || c == 0x5f || c == 0x3a || c == 0x5b || c == 0x5d
            }
    }
}
