#!/usr/bin/env python3
"""Memory a server spends per idle keep-alive connection.

Opens --count connections to 127.0.0.1:--port with non-blocking sockets and one selector, leaves them
idle, and reads the server's RSS (procstat.py: root and workers) before and after:

    --mode connect   TCP connect only (with --tls: connect + TLS handshake), then idle
    --mode request   connect (+ handshake), one complete GET of --path, then idle on keep-alive

    KiB per connection = (RSS after - RSS before) / connections still open when "after" is read

"RSS" is the workers' sum for a server with child processes (nginx), else the root process. The root
(nginx master) is reported separately. After the measurement the client closes everything and reads
RSS once more, to show whether the server gives the memory back. Writes a JSON record to --out.
Standard library only; the server's PID comes from the caller.
"""

import argparse
import errno
import json
import resource
import selectors
import socket
import ssl
import sys
import time

import procstat

CONNECTING, HANDSHAKE, SENDING, RECEIVING, IDLE = "connecting", "handshake", "sending", "receiving", "idle"


class Connection:
    """One client connection walking CONNECTING → [HANDSHAKE] → [SENDING → RECEIVING] → IDLE."""

    def __init__(self, sock):
        self.sock = sock
        self.state = CONNECTING
        self.outgoing = b""
        self.incoming = bytearray()
        self.status = None


def raise_fd_limit(count):
    """Raise the soft RLIMIT_NOFILE to what `count` sockets need; returns the count that fits."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = count + 64  # selector, stdio, python's own files
    if hard != resource.RLIM_INFINITY and hard < need:
        print(f"idle_conns: hard fd limit {hard} < {need}: opening {hard - 64} connections", file=sys.stderr)
        count, need = hard - 64, hard
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    return count


def response_complete(buf):
    """True when `buf` holds a whole HTTP/1.1 response (Content-Length or chunked framing)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = bytes(buf[:end]).lower()
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip() == b"content-length":
            return len(buf) >= end + 4 + int(value.strip())
        if name.strip() == b"transfer-encoding" and b"chunked" in value:
            return buf.endswith(b"\r\n0\r\n\r\n")
    return True  # no body framing: a body-less response (e.g. 304) is complete at the blank line


class Opener:
    """Drives up to `batch` connections at a time until `count` are idle or the deadline passes."""

    def __init__(self, args):
        self.args = args
        self.selector = selectors.DefaultSelector()
        self.request = (
            f"GET {args.path} HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\nUser-Agent: bench-idle\r\n\r\n"
        ).encode()
        self.tls = None
        if args.tls:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            self.tls.check_hostname = False
            self.tls.verify_mode = ssl.CERT_NONE  # self-signed bench certificate on 127.0.0.1
        self.idle, self.failures, self.bad_status = [], {}, 0

    def fail(self, conn, reason):
        self.failures[reason] = self.failures.get(reason, 0) + 1
        try:
            self.selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass  # failed between unregister and register (TLS wrap)
        conn.sock.close()

    def start(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        code = sock.connect_ex(("127.0.0.1", self.args.port))
        conn = Connection(sock)
        self.selector.register(sock, selectors.EVENT_WRITE, conn)
        if code not in (0, errno.EINPROGRESS):
            self.fail(conn, f"connect: {errno.errorcode.get(code, code)}")

    def wait_for(self, conn, events):
        self.selector.modify(conn.sock, events, conn)

    def finish_setup(self, conn):
        """After TCP connect (and handshake): go idle, or send the request."""
        if self.args.mode == "connect":
            conn.state = IDLE
            self.selector.unregister(conn.sock)
            self.idle.append(conn)
        else:
            conn.state, conn.outgoing = SENDING, self.request
            self.step(conn)

    def step(self, conn):
        """Advance `conn` as far as it goes without blocking."""
        try:
            if conn.state == CONNECTING:
                code = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    return self.fail(conn, f"connect: {errno.errorcode.get(code, code)}")
                if self.tls is None:
                    return self.finish_setup(conn)
                self.selector.unregister(conn.sock)
                conn.sock = self.tls.wrap_socket(conn.sock, do_handshake_on_connect=False)
                self.selector.register(conn.sock, selectors.EVENT_WRITE, conn)
                conn.state = HANDSHAKE
            if conn.state == HANDSHAKE:
                conn.sock.do_handshake()
                return self.finish_setup(conn)
            if conn.state == SENDING:
                while conn.outgoing:
                    conn.outgoing = conn.outgoing[conn.sock.send(conn.outgoing):]
                conn.state = RECEIVING
                self.wait_for(conn, selectors.EVENT_READ)
            if conn.state == RECEIVING:
                while True:
                    data = conn.sock.recv(65536)
                    if not data:
                        return self.fail(conn, "closed before response end")
                    conn.incoming += data
                    if response_complete(conn.incoming):
                        break
                if not conn.incoming.startswith(b"HTTP/1.1 200 "):
                    self.bad_status += 1
                conn.incoming = bytearray()
                conn.state = IDLE
                self.selector.unregister(conn.sock)
                self.idle.append(conn)
        except (ssl.SSLWantReadError, BlockingIOError):
            self.wait_for(conn, selectors.EVENT_READ)
        except ssl.SSLWantWriteError:
            self.wait_for(conn, selectors.EVENT_WRITE)
        except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
            self.fail(conn, f"{conn.state}: {type(error).__name__}")
        return None

    def run(self, count):
        deadline = time.monotonic() + self.args.timeout
        started = 0
        while time.monotonic() < deadline:
            in_flight = len(self.selector.get_map())
            while started < count and in_flight < self.args.batch:
                self.start()
                started += 1
                in_flight += 1
            if started == count and in_flight == 0:
                break
            for key, _ in self.selector.select(timeout=0.5):
                self.step(key.data)
        for key in list(self.selector.get_map().values()):
            self.fail(key.data, "timeout")
        self.failures["not started"] = count - started
        return {k: v for k, v in self.failures.items() if v}


def still_open(conns):
    """Idle connections the server has not closed: readable with no data means EOF."""
    alive = 0
    with selectors.DefaultSelector() as probe:
        for conn in conns:
            probe.register(conn.sock, selectors.EVENT_READ)
        readable = {key.fileobj for key, _ in probe.select(timeout=0)}
    for conn in conns:
        if conn.sock not in readable:
            alive += 1
            continue
        try:  # a TLS 1.3 session ticket also makes the socket readable; reading it keeps it open
            if conn.sock.recv(1):
                alive += 1
        except (ssl.SSLWantReadError, BlockingIOError):
            alive += 1
        except OSError:
            pass
    return alive


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="server root PID (nginx master)")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--mode", choices=("connect", "request"), default="request")
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--path", default="/static/1k.bin")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds to wait before reading RSS")
    parser.add_argument("--timeout", type=float, default=120.0, help="bound on the opening phase")
    parser.add_argument("--batch", type=int, default=256, help="connections being opened at once")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    count = raise_fd_limit(args.count)
    opener = Opener(args)
    before = procstat.tree_rss(args.pid)
    began = time.monotonic()
    failures = opener.run(count)
    open_seconds = time.monotonic() - began
    time.sleep(args.settle)
    alive = still_open(opener.idle)
    after = procstat.tree_rss(args.pid)
    alive_after = still_open(opener.idle)
    for conn in opener.idle:
        conn.sock.close()
    time.sleep(args.settle)
    after_close = procstat.tree_rss(args.pid)

    grown = procstat.connection_kib(after) - procstat.connection_kib(before)
    record = {
        "mode": args.mode, "tls": args.tls, "requested": args.count, "attempted": count,
        "idle": len(opener.idle), "alive": alive, "alive_after_read": alive_after,
        "failures": failures, "non_200": opener.bad_status, "open_seconds": round(open_seconds, 2),
        "before": before, "after": after, "after_close": after_close,
        "grown_kib": grown, "kib_per_conn": round(grown / alive, 3) if alive else None,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)
    per = "n/a" if record["kib_per_conn"] is None else f"{record['kib_per_conn']:.2f}"
    print(f"idle {args.mode}{' tls' if args.tls else ''}: {alive}/{count} open, "
          f"RSS +{grown} KiB = {per} KiB/conn, failures {failures or 'none'}, non-200 {opener.bad_status}")
    return 0 if alive else 1


if __name__ == "__main__":
    sys.exit(main())
