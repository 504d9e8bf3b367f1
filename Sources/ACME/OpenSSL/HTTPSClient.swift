internal import COpenSSL
import Glibc

/// A response of `HTTPSClient`.
public struct HTTPSResponse: Sendable {
    public var status: Int
    /// Names lower-cased, in arrival order.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.value
    }
}

/// A small blocking HTTPS/1.1 client for the ACME directory: one request per connection (`Connection:
/// close`), the CA verified against the system store or `caBundle`, the host name checked (SSL_set1_host).
///
/// Blocking on purpose: it runs on the ACME thread only, never on a loop thread. OpenSSL over a plain
/// blocking socket (SSL_set_fd) is a few dozen lines; libcurl would grow the runtime image, and our
/// `TLSSession` engine is shaped for the non-blocking server side.
public final class HTTPSClient: @unchecked Sendable {
    // Thread-safety: `context` is configured in init and never changed; SSL_new on it is thread-safe.
    private let context: OpaquePointer
    private let timeoutSeconds: Int

    /// Trusts `caBundle` (PEM file) when given, else the system's default store.
    public init(caBundle: String?, timeoutSeconds: Int = 30) throws(ACMEError) {
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw ACMEError.crypto("SSL_CTX_new", "out of memory")
        }
        self.context = context
        self.timeoutSeconds = timeoutSeconds
        _ = copenssl_ctx_set_min_proto_version(context, TLS1_2_VERSION)
        let loaded =
            if let caBundle { SSL_CTX_load_verify_locations(context, caBundle, nil) == 1 } else {
                SSL_CTX_set_default_verify_paths(context) == 1
            }
        guard loaded else { throw ACMEError.crypto("CA bundle \(caBundle ?? "(system)")", drain()) }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
    }

    deinit { SSL_CTX_free(context) }

    /// Sends one request to `url` (https only) and reads the whole response (at most 1 MiB).
    public func send(
        _ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8] = []
    ) throws(ACMEError) -> HTTPSResponse {
        let target = try URLParts(url)
        let fd = try connect(host: target.host, port: target.port)
        defer { close(fd) }
        ERR_clear_error()
        guard let ssl = SSL_new(context) else { throw ACMEError.transport(url, "SSL_new: out of memory") }
        defer { SSL_free(ssl) }
        SSL_set_fd(ssl, fd)
        _ = copenssl_set_tlsext_host_name(ssl, target.host)
        SSL_set1_host(ssl, target.host)
        guard SSL_connect(ssl) == 1 else {
            let verify = SSL_get_verify_result(ssl)
            let reason =
                verify != X509_V_OK ? String(cString: X509_verify_cert_error_string(verify)) : drain()
            throw ACMEError.transport(url, "TLS handshake: \(reason)")
        }
        var head = "\(method) \(target.path) HTTP/1.1\r\nHost: \(target.authority)\r\n"
        head += "User-Agent: mywebsite-acme\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        var sent = 0
        while sent < request.count {
            // Invariant: the slice pointer stays valid for the call; SSL_write copies into its record buffer.
            let n = request[sent...].withUnsafeBytes { SSL_write(ssl, $0.baseAddress, CInt($0.count)) }
            guard n > 0 else { throw ACMEError.transport(url, "write: \(drain())") }
            sent += Int(n)
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while received.count <= 1 << 20 {
            let n = SSL_read(ssl, &chunk, CInt(chunk.count))
            if n <= 0 { break }  // close_notify, or EOF: the framing check below decides
            received += chunk[0..<Int(n)]
        }
        ERR_clear_error()
        guard let response = Self.parse(received, bodyless: method == "HEAD") else {
            throw ACMEError.transport(url, "malformed or truncated HTTP response (\(received.count) bytes)")
        }
        return response
    }

    /// Connects a blocking TCP socket with send and receive timeouts.
    private func connect(host: String, port: String) throws(ACMEError) -> CInt {
        var hints = addrinfo()
        hints.ai_socktype = CInt(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, port, &hints, &list)
        guard rc == 0, let first = list else {
            throw ACMEError.transport("\(host):\(port)", "cannot resolve: \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError: CInt = 0
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | CInt(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 { continue }
            var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            // On Linux SO_SNDTIMEO also bounds connect(2).
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            lastError = errno
            close(fd)
        }
        throw ACMEError.transport("\(host):\(port)", "connect: \(String(cString: strerror(lastError)))")
    }

    /// Status line, headers, and (unless `bodyless`: the answer to HEAD) a body framed by Content-Length, chunked coding, or the close.
    static func parse(_ bytes: [UInt8], bodyless: Bool = false) -> HTTPSResponse? {
        guard let end = find([13, 10, 13, 10], in: bytes, from: 0) else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).split(
            separator: "\r\n", omittingEmptySubsequences: false)
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1."),
            let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(
                (line[..<colon].lowercased(), String(line[line.index(after: colon)...]).trimmingSpaces()))
        }
        var response = HTTPSResponse(status: status, headers: headers, body: [])
        let rest = Array(bytes[(end + 4)...])
        if bodyless {
            return response
        } else if response.header("transfer-encoding")?.lowercased().contains("chunked") == true {
            var index = 0
            while true {
                guard let lineEnd = find([13, 10], in: rest, from: index),
                    let size = Int(
                        String(decoding: rest[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? "",
                        radix: 16)
                else { return nil }
                index = lineEnd + 2
                if size == 0 { break }
                guard rest.count >= index + size + 2 else { return nil }
                response.body += rest[index..<index + size]
                index += size + 2
            }
        } else if let length = response.header("content-length").flatMap({ Int($0) }) {
            guard rest.count >= length else { return nil }
            response.body = Array(rest[..<length])
        } else {
            response.body = rest
        }
        return response
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = start
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0] && Array(haystack[i..<i + needle.count]) == needle { return i }
            i += 1
        }
        return nil
    }
}

/// `https://host[:port]/path` split up; anything else is refused.
struct URLParts {
    let host: String
    let port: String
    let path: String
    /// What the Host header carries.
    let authority: String

    init(_ url: String) throws(ACMEError) {
        guard url.hasPrefix("https://") else { throw ACMEError.transport(url, "only https:// URLs are allowed") }
        let rest = url.dropFirst("https://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        authority = String(rest[..<slash])
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            port = after.hasPrefix(":") ? String(after.dropFirst()) : "443"
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            port = String(authority[authority.index(after: colon)...])
        } else {
            host = authority
            port = "443"
        }
        guard !host.isEmpty, Int(port) != nil else { throw ACMEError.transport(url, "not a valid https URL") }
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
