import Reactor

/// The plain-HTTP listener of direct-TLS mode: answers every request with a 308 to the same host, path and
/// query over HTTPS, except the paths it is told to pass through (`/healthz`, so a probe needs no TLS).
public struct HTTPSRedirector: Responder {
    private let httpsPort: Int
    private let fallbackHost: String
    private let passThrough: [String: any Responder]

    /// Redirects to `httpsPort` (omitted from the URL when 443); a request without a usable `Host` goes to
    /// `fallbackHost`. Requests for the paths in `passThrough` go to their responder instead.
    public init(httpsPort: Int, fallbackHost: String, passThrough: [String: any Responder] = [:]) {
        self.httpsPort = httpsPort
        self.fallbackHost = fallbackHost
        self.passThrough = passThrough
    }

    public func respond(to request: Request, context: RequestContext) -> Response {
        if !passThrough.isEmpty, let responder = passThrough[request.path] {
            return responder.respond(to: request, context: context)
        }
        var host = fallbackHost
        if let given = request.host, ForwardedClient.isValidHost(given) {
            // Drop the port the client used for plain HTTP; keep IPv6 brackets.
            if let colon = given.lastIndex(of: ":"), !given.hasSuffix("]") {
                host = String(given[..<colon])
            } else {
                host = given
            }
        }
        let authority = httpsPort == 443 ? host : "\(host):\(httpsPort)"
        let location = "https://\(authority)\(request.target.hasPrefix("/") ? request.target : "/")"
        return Response(
            status: .permanentRedirect,
            headers: [
                ("Location", location), ("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store"),
            ],
            body: .bytes(Bytes("Moved to \(location)\n")))
    }
}
