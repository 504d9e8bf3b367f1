import ArgumentParser
import Reactor

/// `mywebsite healthcheck`: asks the local server's `/healthz` and exits 0 if it answers 200, else 1.
/// Container images use it as their HEALTHCHECK, so they need no curl.
struct HealthcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "Exit 0 when the local server answers /healthz with 200, else 1."
    )

    @Option(help: "Address to probe. Default: 127.0.0.1.")
    var host = "127.0.0.1"
    @Option(help: "Port to probe. Default: HTTP_PORT (80) when SITE_MODE=direct-tls, else SITE_PORT (8080).")
    var port: String?
    @Option(help: "Seconds to wait for the answer.")
    var timeout = 3.0

    mutating func run() throws {
        let env = ProcessEnvironment.all()
        // In direct-tls mode the plain listener (HTTP_PORT) answers /healthz without TLS; else SITE_PORT.
        let defaultPort =
            env["SITE_MODE"] == "direct-tls" ? (env["HTTP_PORT"] ?? "80") : (env["SITE_PORT"] ?? "8080")
        guard let port = UInt16(port ?? defaultPort), let address = SocketAddress(ip: host, port: port) else {
            FileHandleStandardError.write(
                "mywebsite healthcheck: --host must be a numeric address and --port 1-65535\n")
            throw ExitCode(2)
        }
        let request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        do {
            let reply = try BlockingClient.exchange(
                with: address, send: Array(request.utf8),
                timeoutMilliseconds: Int(timeout * 1000))
            let statusLine = String(decoding: reply.prefix { $0 != 0x0D }, as: UTF8.self)
            if statusLine.hasPrefix("HTTP/1.1 200") { return }
            FileHandleStandardError.write("mywebsite healthcheck: \(statusLine.isEmpty ? "no answer" : statusLine)\n")
        } catch {
            FileHandleStandardError.write("mywebsite healthcheck: \(address): \(error)\n")
        }
        throw ExitCode(1)
    }
}
