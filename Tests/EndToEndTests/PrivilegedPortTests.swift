import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Port 443 without root: in a network namespace of its own (as a container has), the unprivileged-port sysctl
/// lets a non-root user bind it; without it, start-up fails with a message that says what to do.
@Suite(.serialized) struct PrivilegedPortTests {
    static var canUseNamespaces: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
    }

    @Test(.enabled(if: canUseNamespaces, "needs root to make a network namespace, and util-linux"))
    func aNonRootServerBinds443WhereTheSysctlAllowsIt() throws {
        let state = try TemporaryDirectory()
        chmod(state.path, 0o777)
        let script = """
            set -e
            ip link set lo up
            sysctl -qw net.ipv4.ip_unprivileged_port_start=443
            setpriv --reuid=65534 --regid=65534 --clear-groups -- "$BIN" serve --mode direct-tls --host 127.0.0.1 \
                --https-port 443 --http-port 8080 --data-path "$STATE" --threads 1 > "$STATE/out" 2> "$STATE/err" &
            pid=$!
            for _ in $(seq 50); do grep -q 'listening: http://' "$STATE/out" 2>/dev/null && break; sleep 0.1; done
            curl -sk -o /dev/null -w '%{http_code}\n' https://127.0.0.1:443/healthz
            ps -o user= -p "$pid"
            kill -TERM "$pid"; wait "$pid"
            """
        let result = try run(
            "/usr/bin/unshare", ["--net", "/bin/sh", "-c", script],
            environment: ["BIN": binaryPath, "STATE": state.path])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "200")
        #expect(lines.dropFirst().first?.trimmingCharacters(in: .whitespaces) == "nobody")
    }

    @Test(.enabled(if: canUseNamespaces, "needs root to make a network namespace, and util-linux"))
    func withoutTheSysctlTheErrorSaysWhatToDo() throws {
        let state = try TemporaryDirectory()
        chmod(state.path, 0o777)
        let script = """
            ip link set lo up
            sysctl -qw net.ipv4.ip_unprivileged_port_start=1024
            setpriv --reuid=65534 --regid=65534 --clear-groups -- "$BIN" serve --mode direct-tls --host 127.0.0.1 \
                --https-port 443 --http-port off --data-path "$STATE" --threads 1
            """
        let result = try run(
            "/usr/bin/unshare", ["--net", "/bin/sh", "-c", script],
            environment: ["BIN": binaryPath, "STATE": state.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("EACCES"))
        #expect(result.stderr.contains("CAP_NET_BIND_SERVICE"))
    }
}
