import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// nginx from Debian in front of the real binary, as in the compose stack.
@Suite(.serialized) struct ReverseProxyTests {
    static var nginxPath: String? {
        ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test func servesThroughNginxAndLogsTheRealClient() throws {
        let nginx = try #require(Self.nginxPath, "nginx is not installed: scripts/test.sh installs it")
        let logs = try TemporaryDirectory()
        let assets = try TemporaryDirectory()
        try assets.write("x.txt", "through the proxy\n")
        let server = try ServerProcess([
            "--static-path", assets.path, "--log-path", logs.path, "--log-format", "json",
            "--threads", "1",
        ])
        let dir = try TemporaryDirectory()
        let port = try freePort()
        try dir.write(
            "nginx.conf",
            """
            worker_processes 1;
            error_log \(dir.path)/error.log;
            pid \(dir.path)/nginx.pid;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(dir.path)/body;
                proxy_temp_path \(dir.path)/proxy;
                fastcgi_temp_path \(dir.path)/fastcgi;
                uwsgi_temp_path \(dir.path)/uwsgi;
                scgi_temp_path \(dir.path)/scgi;
                upstream site { server 127.0.0.1:\(server.port); keepalive 8; }
                server {
                    listen 127.0.0.1:\(port);
                    location / {
                        proxy_pass http://site;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header Host $host;
                        proxy_set_header X-Forwarded-For 198.51.100.7;
                        proxy_set_header X-Forwarded-Proto https;
                        proxy_set_header X-Forwarded-Host $host;
                    }
                }
            }
            """)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: nginx)
        process.arguments = [
            "-c", dir.path + "/nginx.conf", "-p", dir.path, "-g", "daemon off;" + (getuid() == 0 ? " user root;" : ""),
        ]
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        var reply: HTTPReply?
        try waitUntil {
            reply = try? curl(["http://127.0.0.1:\(port)/static/x.txt"])
            return reply?.status == 200
        }
        #expect(reply?.text == "through the proxy\n")
        for _ in 0..<20 { #expect(try curl(["http://127.0.0.1:\(port)/static/x.txt"]).status == 200) }
        try waitUntil {
            ((try? String(contentsOfFile: logs.path + "/access.log", encoding: .utf8)) ?? "").contains("198.51.100.7")
        }
        let log = try String(contentsOfFile: logs.path + "/access.log", encoding: .utf8)
        #expect(log.contains("\"scheme\":\"https\""))
    }
}

/// A TCP port nobody listens on right now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
    _ = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}
