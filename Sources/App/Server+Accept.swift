import CoreMetrics
import Glibc
import HTTP
import Reactor
import TLS

/// What happens between `accept4` and HTTP: the connection caps, the PROXY protocol header, TLS.
extension Server {
    /// Serves an accepted connection of `endpoint` on `loop`, through `http`.
    func serveAccepted(fd: CInt, peer: SocketAddress, endpoint: Endpoint, http: HTTPServer, loop: EventLoop) {
        var slot: ConnectionLimiter.Slot?
        if let limiter = connectionLimiter {
            // Behind a proxy, its connections carry every client: only the total cap applies to them.
            let fromProxy = settings.mode == .behindProxy && settings.http.trustedProxies.contains(peer.host)
            switch limiter.open(for: peer.host, perClient: !fromProxy) {
            case .success(let taken):
                slot = taken
            case .failure(let refusal):
                // Closed before reading anything: the client sees the connection end at once, no RST for bytes
                // we left unread, and this costs neither a handshake nor a buffer.
                Syscall.close(fd)
                metrics?.refused(refusal)
                logRefusal(refusal, peer: peer, loop: loop)
                return
            }
        }
        let socket: SocketStream
        do {
            socket = try SocketStream.accepted(fd: fd, peer: peer, loop: loop, attachment: slot)
        } catch {
            Syscall.close(fd)
            loop.logUnexpected(error)
            return
        }
        guard settings.limits.proxyProtocol else {
            serve(socket, endpoint: endpoint, http: http)
            return
        }
        ProxyProtocolReader(socket: socket, timeout: settings.http.headerTimeout) { [self] socket in
            // The limits count the client the balancer relays, not the balancer.
            if let slot, !slot.move(to: socket.peer.host) {
                metrics?.refused(.perClient)
                logRefusal(.perClient, peer: socket.peer, loop: loop)
                socket.close()
                return
            }
            serve(socket, endpoint: endpoint, http: http)
            // Bytes that came with the header are already queued: no new edge will announce them.
            socket.readQueuedInput()
        } onFailure: { [self] in
            metrics?.proxyHeaderFailed()
        }
    }

    private func serve(_ socket: SocketStream, endpoint: Endpoint, http: HTTPServer) {
        if let tls = endpoint.tls {
            let stream = TLSStream(
                transport: socket, context: tls.current,
                handshakeTimeout: .milliseconds(settings.tls.handshakeTimeout))
            // After the handshake: h2 or HTTP/1.1, by what ALPN chose.
            http.accept(stream) { [unowned stream] in stream.session?.applicationProtocol }
        } else {
            http.accept(socket)
        }
    }

    /// One line per refused connection at most every second per loop: a flood must not flood the log.
    private func logRefusal(_ refusal: ConnectionLimiter.Refusal, peer: SocketAddress, loop: EventLoop) {
        guard let state = loop.context as? LoopState, loop.now - state.lastRefusalLog >= 1000 else { return }
        state.lastRefusalLog = loop.now
        let limit =
            refusal == .perClient
            ? "--max-connections-per-ip \(settings.limits.maxConnectionsPerIP ?? 0)"
            : "--max-connections \(settings.limits.maxConnections ?? 0)"
        logger.warning(
            "connection refused: \(limit) reached",
            metadata: ["peer": "\(peer.ipString)", "reason": "\(refusal.label)"])
    }
}
