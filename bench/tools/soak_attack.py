#!/usr/bin/env python3
"""The hostile half of bench/soak.sh: malformed requests, abrupt disconnects and stalled connections sent to
one server on 127.0.0.1 while wrk loads it, and a check of every answer.

    soak_attack.py --port P [--tls] [--duration S] [--workers N] [--slow-max N] [--header-timeout S]
                   [--static-dir DIR] [--json FILE] [--seed N] [--once]

--workers threads loop until --duration runs out, each picking a case from CASES (weighted) on a fresh
connection (TLS with --tls):

    refuse      a malformed head (bare LF, obs-fold, conflicting Content-Length, TE+CL, 20 KB header,
                9 KB request line, NUL bytes, bad methods and versions, random bytes, the HTTP/2
                preface…), sometimes after a good request on the same connection. The server must answer
                a 4xx/5xx status line (after the good request's 200), and nothing else.
    disconnect  the client leaves abruptly: half a request then RST (SO_LINGER 0), connect then RST,
                pipelined 100 KiB GETs then RST mid-response, GETs then close without reading, a truncated
                head then FIN (the server must not answer it with a 2xx). With --tls also ClientHellos
                followed by FIN or RST, and a full handshake then RST.
    close       (--tls) bytes that are not TLS on the HTTPS port — a plaintext HTTP request, random bytes:
                the server must close the connection and must not answer 2xx.
    control     a well-formed GET of a fixture: must be 200 with the file's exact bytes (--static-dir).

One more thread keeps up to --slow-max stalled connections open (connect and say nothing; a head
trickled one byte every 0.5 s; with --tls also a partial ClientHello, a ClientHello never finished, a
handshake then a trickled head). The server must close each within --header-timeout plus a margin.

Everything is bounded: each exchange by a socket timeout, the run by --duration, stalled connections by
--slow-max; at the end every socket still open is closed. --once runs each case once, in order (a
warm-up and a self-check). Prints a summary; --json writes the counts and the first violations with
their bytes. Exit status 1 if any check failed (a violation), 0 otherwise. Standard library only; only
127.0.0.1 is ever contacted.
"""

import argparse
import base64
import collections
import errno
import json
import os
import random
import selectors
import socket
import ssl
import struct
import sys
import threading
import time

HOST = "127.0.0.1"
GOOD_HEAD = b"GET /static/1k.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
BIG_GET = b"GET /static/100k.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
MAX_SAMPLES = 20  # violations kept with their bytes in the JSON record
MAX_LISTED = 10  # kinds of violation listed in the summary, most frequent first
GONE_AFTER = 20  # refused connections after which the server is taken for gone and the attack stops


# --- the malformed heads ---------------------------------------------------------------------------------
# name -> (function of a Random returning the bytes to send, statuses the parser is expected to give).
# Any 4xx/5xx passes; one outside the expected set is only listed as "unexpected" in the summary.

def _head(lines):
    return b"".join(line + b"\r\n" for line in lines) + b"\r\n"


def _random_garbage(rng):
    # Random bytes, then CRLF CRLF so the head is complete and the parser must decide now.
    return rng.randbytes(rng.randint(1, 4096)) + b"\r\n\r\n"


MALFORMED = {
    "bare-lf": (lambda r: b"GET / HTTP/1.1\nHost: 127.0.0.1\n\n", {400}),
    "bare-lf-in-field": (lambda r: b"GET / HTTP/1.1\r\nHost: 127.0.0.1\nX-A: b\r\n\r\n", {400}),
    "bare-cr": (lambda r: b"GET / HTTP/1.1\rHost: 127.0.0.1\r\n\r\n", {400}),
    "obs-fold": (lambda r: _head([b"GET / HTTP/1.1", b"Host: 127.0.0.1", b"X-Folded: a", b" b"]), {400}),
    "obs-fold-tab": (lambda r: _head([b"GET / HTTP/1.1", b"Host: 127.0.0.1", b"X-Folded: a", b"\tb"]), {400}),
    "conflicting-cl": (lambda r: _head([b"GET / HTTP/1.1", b"Host: 127.0.0.1", b"Content-Length: 1",
                                        b"Content-Length: 2"]), {400}),
    "cl-list-mismatch": (lambda r: _head([b"GET / HTTP/1.1", b"Host: 127.0.0.1", b"Content-Length: 0, 5"]), {400}),
    "te-and-cl": (lambda r: _head([b"POST / HTTP/1.1", b"Host: 127.0.0.1", b"Content-Length: 5",
                                   b"Transfer-Encoding: chunked"]) + b"0\r\n\r\n", {400}),
    "te-chunked": (lambda r: _head([b"POST / HTTP/1.1", b"Host: 127.0.0.1", b"Transfer-Encoding: chunked"])
                   + b"0\r\n\r\n", {411}),
    "te-unknown": (lambda r: _head([b"POST / HTTP/1.1", b"Host: 127.0.0.1", b"Transfer-Encoding: gzip, chunked"]),
                   {400, 411, 501}),
    "te-http10": (lambda r: _head([b"POST / HTTP/1.0", b"Transfer-Encoding: chunked"]), {400}),
    "cl-not-a-number": (lambda r: _head([b"POST / HTTP/1.1", b"Host: 127.0.0.1", b"Content-Length: 12a"]), {400}),
    "cl-negative": (lambda r: _head([b"POST / HTTP/1.1", b"Host: 127.0.0.1", b"Content-Length: -1"]), {400}),
    "cl-overflow": (lambda r: _head([b"POST / HTTP/1.1", b"Host: 127.0.0.1",
                                     b"Content-Length: 99999999999999999999999999"]), {400, 413}),
    "cl-body-refused": (lambda r: _head([b"POST / HTTP/1.1", b"Host: 127.0.0.1", b"Content-Length: 10"])
                        + b"0123456789", {413}),
    "huge-header": (lambda r: _head([b"GET / HTTP/1.1", b"Host: 127.0.0.1", b"X-Big: " + b"a" * 20_000]), {431}),
    "many-headers": (lambda r: _head([b"GET / HTTP/1.1", b"Host: 127.0.0.1"]
                                     + [b"X-H%d: v" % i for i in range(150)]), {431}),
    "long-request-line": (lambda r: _head([b"GET /" + b"a" * 9000 + b" HTTP/1.1", b"Host: 127.0.0.1"]), {414}),
    "nul-in-target": (lambda r: _head([b"GET /\x00 HTTP/1.1", b"Host: 127.0.0.1"]), {400}),
    "nul-in-field": (lambda r: _head([b"GET / HTTP/1.1", b"Host: 127.0.0.1", b"X-A: a\x00b"]), {400}),
    "nul-in-name": (lambda r: _head([b"GET / HTTP/1.1", b"Host: 127.0.0.1", b"X\x00A: b"]), {400}),
    "nul-method": (lambda r: _head([b"\x00GET / HTTP/1.1", b"Host: 127.0.0.1"]), {400}),
    "method-bad-char": (lambda r: _head([b"G(T / HTTP/1.1", b"Host: 127.0.0.1"]), {400}),
    "method-empty": (lambda r: _head([b" / HTTP/1.1", b"Host: 127.0.0.1"]), {400}),
    "method-utf8": (lambda r: _head(["GÉT / HTTP/1.1".encode(), b"Host: 127.0.0.1"]), {400}),
    "method-unknown": (lambda r: _head([b"BREW / HTTP/1.1", b"Host: 127.0.0.1"]), {405, 501}),
    "method-connect": (lambda r: _head([b"CONNECT 127.0.0.1:443 HTTP/1.1", b"Host: 127.0.0.1:443"]), {400, 501}),
    "double-space": (lambda r: _head([b"GET  / HTTP/1.1", b"Host: 127.0.0.1"]), {400}),
    "version-lower": (lambda r: _head([b"GET / http/1.1", b"Host: 127.0.0.1"]), {400}),
    "version-2": (lambda r: _head([b"GET / HTTP/2.0", b"Host: 127.0.0.1"]), {505}),
    "version-junk": (lambda r: _head([b"GET / HTTP/1.1x", b"Host: 127.0.0.1"]), {400}),
    "http2-preface": (lambda r: b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {400, 505}),
    "missing-host": (lambda r: _head([b"GET / HTTP/1.1"]), {400}),
    "duplicate-host": (lambda r: _head([b"GET / HTTP/1.1", b"Host: 127.0.0.1", b"Host: example.com"]), {400}),
    "bad-host": (lambda r: _head([b"GET / HTTP/1.1", b"Host: a b"]), {400}),
    "space-before-colon": (lambda r: _head([b"GET / HTTP/1.1", b"Host : 127.0.0.1"]), {400}),
    "space-before-first-field": (lambda r: _head([b"GET / HTTP/1.1", b" Host: 127.0.0.1"]), {400}),
    "empty-field-name": (lambda r: _head([b"GET / HTTP/1.1", b"Host: 127.0.0.1", b": v"]), {400}),
    "target-fragment": (lambda r: _head([b"GET /#x HTTP/1.1", b"Host: 127.0.0.1"]), {400}),
    "target-control": (lambda r: _head([b"GET /\x7f HTTP/1.1", b"Host: 127.0.0.1"]), {400}),
    "target-traversal": (lambda r: _head([b"GET /static/../../../../etc/passwd HTTP/1.1", b"Host: 127.0.0.1"]),
                         {400, 403, 404}),
    "target-encoded-traversal": (lambda r: _head([b"GET /static/%2e%2e/%2e%2e/etc/passwd HTTP/1.1",
                                                  b"Host: 127.0.0.1"]), {400, 403, 404}),
    "leading-empty-lines": (lambda r: b"\r\n" * 50 + _head([b"GET / HTTP/1.1", b"Host: 127.0.0.1"]), {400}),
    "random-bytes": (_random_garbage, {400, 414, 431, 501, 505}),
}

# --- one exchange on one connection ----------------------------------------------------------------------


class Config:
    """Settings shared by every thread (read-only once made)."""

    def __init__(self, args):
        self.port = args.port
        self.tls = args.tls
        self.header_timeout = args.header_timeout
        self.answer_timeout = max(5.0, args.header_timeout + 3.0)
        self.deadline = time.monotonic() + args.duration
        self.fixtures = {}
        if args.static_dir:
            for name in ("1k.bin", "12k.bin", "100k.bin"):
                try:
                    with open(os.path.join(args.static_dir, name), "rb") as f:
                        self.fixtures[name] = f.read()
                except OSError:
                    pass
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE  # the bench's self-signed certificate on 127.0.0.1


class Stats:
    """Counts per case and outcome, and the first violations. One lock; threads add, main reads at the end."""

    def __init__(self):
        self.lock = threading.Lock()
        self.outcomes = collections.defaultdict(collections.Counter)  # (kind, case) -> outcome -> count
        self.violations = 0
        self.violation_counts = collections.Counter()  # (kind, case, outcome) -> count
        self.samples = []  # the first MAX_SAMPLES violations, plus the first of each (kind, case, outcome)
        self.slow_lifetimes = []
        self.refused = 0
        self.gone = threading.Event()  # set once the server refuses GONE_AFTER connections
        self.gone_at = None

    def connect_failed(self, kind, case, error, sent=b""):
        """A connection that could not be made: a violation. After GONE_AFTER refusals the server is taken
        for gone, and every thread stops (the run has failed; the rest would only repeat it)."""
        self.add(kind, case, "connect-failed", f"connect: {error}", sent)
        if isinstance(error, ConnectionRefusedError):
            with self.lock:
                self.refused += 1
                if self.refused == GONE_AFTER:
                    self.gone_at = time.strftime("%H:%M:%S")
                    self.gone.set()

    def add(self, kind, case, outcome, violation=None, sent=b"", received=b""):
        with self.lock:
            self.outcomes[(kind, case)][outcome] += 1
            if violation:
                self.violations += 1
                self.violation_counts[(kind, case, outcome)] += 1
                if len(self.samples) < MAX_SAMPLES or self.violation_counts[(kind, case, outcome)] == 1:
                    self.samples.append({
                        "case": case, "kind": kind, "outcome": outcome, "what": violation,
                        "at": time.strftime("%H:%M:%S"),
                        "sent_b64": base64.b64encode(sent[:65536]).decode(), "sent_len": len(sent),
                        "received": received[:300].decode("latin-1"),
                    })


def connect(cfg, tls=None, timeout=None):
    """A TCP connection to the server (TLS-wrapped, handshake done, when `tls` or, by default, cfg.tls)."""
    sock = socket.create_connection((HOST, cfg.port), timeout=timeout or cfg.answer_timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if cfg.tls if tls is None else tls:
        try:
            sock = cfg.context.wrap_socket(sock)
        except BaseException:
            sock.close()
            raise
    return sock


def reset_close(sock):
    """close() with SO_LINGER {on, 0}: the kernel sends RST instead of FIN (socket(7))."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def send_all(sock, data):
    """Sends `data`; returns None, or how the send ended early ("reset", "timeout", …)."""
    try:
        sock.sendall(data)
        return None
    except (BrokenPipeError, ConnectionResetError):
        return "reset"
    except socket.timeout:
        return "timeout"
    except ssl.SSLError as error:
        return f"tls-error {error.reason}"
    except OSError as error:
        return f"send-error {errno.errorcode.get(error.errno, error.errno)}"


def read_to_close(sock, timeout, cap=4 << 20, responses=None):
    """Reads until the server closes, or until `responses` whole responses are in; returns (bytes, end) with
    end "eof", "reset", "timeout", "tls-error" or "answered" (the responses are in, the connection open)."""
    data = bytearray()
    deadline = time.monotonic() + timeout
    while len(data) < cap:
        if responses and len(parse_statuses(data)) >= responses:
            return bytes(data), "answered"
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(data), "timeout"
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return bytes(data), "timeout"
        except ConnectionResetError:
            return bytes(data), "reset"
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
            return bytes(data), "eof"
        except ssl.SSLError:
            return bytes(data), "tls-error"
        except OSError:
            return bytes(data), "reset"
        if not chunk:
            return bytes(data), "eof"
        data += chunk
    return bytes(data), "cap"


def parse_statuses(data):
    """Status codes of the consecutive responses at the start of `data` (Content-Length framing)."""
    statuses, at = [], 0
    data = bytes(data)
    while at < len(data):
        end = data.find(b"\r\n\r\n", at)
        if end < 0 or not data.startswith(b"HTTP/1.", at):
            break
        head = data[at:end].split(b"\r\n")
        try:
            statuses.append(int(head[0].split(b" ")[1]))
        except (IndexError, ValueError):
            break
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or 0)
        if end + 4 + length > len(data):
            statuses.pop()  # the body is not all here yet
            break
        at = end + 4 + length
    return statuses


# --- the cases -------------------------------------------------------------------------------------------

def case_refuse(cfg, stats, rng, name):
    make, _expected = MALFORMED[name]
    payload = make(rng)
    prefixed = rng.random() < 0.3  # a good request first: the parser meets the bad head mid-connection
    sent = (GOOD_HEAD + payload) if prefixed else payload
    label = name + ("+after-good" if prefixed else "")
    try:
        sock = connect(cfg)
    except OSError as error:
        return stats.connect_failed("refuse", label, error, sent)
    with sock:
        send_all(sock, sent)  # the server may answer and close before taking all: read its answer anyway
        # A parse error closes the connection; a well-formed but refused request (405, 404) may keep it.
        data, end = read_to_close(sock, cfg.answer_timeout, responses=2 if prefixed else 1)
    statuses = parse_statuses(data)
    if prefixed:
        if not statuses or statuses[0] != 200:
            return stats.add("refuse", label, "good-request-failed",
                             f"the good request before it got {statuses[:1] or end}", sent, data)
        statuses = statuses[1:]
    if not data:
        return stats.add("refuse", label, f"no-answer-{end}", f"no answer, connection ended by {end}", sent)
    if not statuses:
        return stats.add("refuse", label, "not-http", f"not an HTTP response (then {end})", sent, data)
    status = statuses[-1]
    if not 400 <= status <= 599:
        return stats.add("refuse", label, f"status {status}", f"accepted with status {status}", sent, data)
    return stats.add("refuse", label, f"status {status}")


def case_control(cfg, stats, rng):
    name = rng.choice(sorted(cfg.fixtures) or ["healthz"])
    path = f"/static/{name}" if name != "healthz" else "/healthz"
    sent = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    try:
        sock = connect(cfg)
    except OSError as error:
        return stats.connect_failed("control", "good-get", error, sent)
    with sock:
        failed = send_all(sock, sent)
        data, end = read_to_close(sock, cfg.answer_timeout)
    head, _, body = data.partition(b"\r\n\r\n")
    statuses = parse_statuses(data)
    if statuses != [200]:
        return stats.add("control", "good-get", f"failed-{statuses or end}",
                         f"well-formed GET {path}: {statuses or 'no answer'} ({failed or end})", sent, data)
    if name != "healthz" and body != cfg.fixtures[name]:
        return stats.add("control", "good-get", "wrong-bytes",
                         f"well-formed GET {path}: 200 but {len(body)} bytes differ from the file", sent, head)
    return stats.add("control", "good-get", "status 200, right bytes")


def _client_hello(cfg):
    """The bytes of a fresh ClientHello, made by an in-memory TLS client (no socket)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = cfg.context.wrap_bio(incoming, outgoing)
    try:
        client.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def case_disconnect(cfg, stats, rng, name):
    raw = name.startswith("tls-")  # TLS-level cases work on the TCP socket under the handshake
    try:
        sock = connect(cfg, tls=False if raw else None)
    except OSError as error:
        return stats.connect_failed("disconnect", name, error)
    outcome = "done"
    if name == "half-request-rst":
        cut = rng.randint(1, len(BIG_GET) - 5)
        send_all(sock, BIG_GET[:cut])
        time.sleep(rng.random() * 0.05)
        reset_close(sock)
    elif name == "connect-rst":
        reset_close(sock)
    elif name == "pipeline-rst":
        send_all(sock, BIG_GET * 8)
        want, got = rng.randint(1, 400_000), 0
        sock.settimeout(cfg.answer_timeout)
        try:
            while got < want:
                chunk = sock.recv(min(65536, want - got))
                if not chunk:
                    outcome = "server-closed-first"
                    break
                got += len(chunk)
        except OSError:
            outcome = "server-reset-first"
        reset_close(sock)
    elif name == "request-then-close":
        send_all(sock, BIG_GET * 4)
        sock.close()  # unread data in our receive queue: the kernel answers the server's writes with RST
    elif name == "truncated-head-fin":
        head = b"GET /static/1k.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: abcdef\r\n\r\n"
        sent = head[: rng.randint(1, len(head) - 1)]
        send_all(sock, sent)
        try:
            # The TCP FIN only: SSLSocket.shutdown would also drop the TLS state we still read with.
            socket.socket.shutdown(sock, socket.SHUT_WR)
        except OSError:
            pass
        data, end = read_to_close(sock, cfg.answer_timeout)
        sock.close()
        statuses = parse_statuses(data)
        if end == "timeout" and not data:
            return stats.add("disconnect", name, "left-open", "an incomplete head then FIN: still open", sent)
        if statuses and statuses[0] < 400:
            return stats.add("disconnect", name, f"status {statuses[0]}",
                             f"an incomplete head was answered {statuses[0]}", sent, data)
        outcome = f"status {statuses[0]}" if statuses else f"closed ({end})"
    elif name in ("tls-hello-fin", "tls-hello-rst"):
        hello = _client_hello(cfg)
        send_all(sock, hello[: rng.randint(1, len(hello))] if rng.random() < 0.3 else hello)
        if rng.random() < 0.5:
            time.sleep(rng.random() * 0.02)  # sometimes let the ServerHello arrive first
        if name.endswith("rst"):
            reset_close(sock)
        else:
            sock.close()
    elif name == "tls-handshake-rst":
        try:
            tls = cfg.context.wrap_socket(sock)
        except OSError as error:
            sock.close()
            return stats.add("disconnect", name, "handshake-failed", f"handshake: {error}")
        if rng.random() < 0.5:
            send_all(tls, BIG_GET[: rng.randint(1, len(BIG_GET))])
        reset_close(tls)
    else:
        raise ValueError(name)
    return stats.add("disconnect", name, outcome)


def case_close(cfg, stats, rng, name):
    """Not TLS on the HTTPS port: the server must close, and never answer 2xx."""
    try:
        sock = connect(cfg, tls=False)
    except OSError as error:
        return stats.connect_failed("close", name, error)
    if name == "non-tls-http-request":
        sent = GOOD_HEAD
    else:
        sent = rng.randbytes(rng.randint(1, 2048))
    with sock:
        send_all(sock, sent)
        data, end = read_to_close(sock, cfg.answer_timeout)
    statuses = parse_statuses(data)
    if statuses and statuses[0] < 400:
        return stats.add("close", name, f"status {statuses[0]}", f"non-TLS bytes answered {statuses[0]}", sent, data)
    if end == "timeout":
        return stats.add("close", name, "left-open", f"non-TLS bytes: still open after {cfg.answer_timeout} s", sent)
    if statuses:
        return stats.add("close", name, f"status {statuses[0]} then {end}")
    if data[:1] == b"\x15":
        return stats.add("close", name, f"tls-alert then {end}")
    return stats.add("close", name, f"{'bytes' if data else 'nothing'} then {end}")


def case_table(tls):
    """[(weight, kind, name)] for one worker's draws."""
    table = [(6 / len(MALFORMED), "refuse", name) for name in MALFORMED]
    for name in ("half-request-rst", "connect-rst", "pipeline-rst", "request-then-close", "truncated-head-fin"):
        table.append((0.5, "disconnect", name))
    if tls:
        for name in ("tls-hello-fin", "tls-hello-rst", "tls-handshake-rst"):
            table.append((0.5, "disconnect", name))
        table += [(0.5, "close", "non-tls-http-request"), (0.5, "close", "non-tls-random-bytes")]
    table.append((1.0, "control", "good-get"))
    return table


def run_case(cfg, stats, rng, kind, name):
    try:
        if kind == "refuse":
            case_refuse(cfg, stats, rng, name)
        elif kind == "disconnect":
            case_disconnect(cfg, stats, rng, name)
        elif kind == "close":
            case_close(cfg, stats, rng, name)
        else:
            case_control(cfg, stats, rng)
    except ConnectionRefusedError as error:
        stats.connect_failed(kind, name, error)
    except OSError as error:  # e.g. a TLS handshake cut short under load: counted, not a violation
        stats.add(kind, name, f"error {type(error).__name__}")


def worker(cfg, stats, seed):
    rng = random.Random(seed)
    table = case_table(cfg.tls)
    weights = [w for w, _, _ in table]
    while time.monotonic() < cfg.deadline and not stats.gone.is_set():
        _, kind, name = rng.choices(table, weights)[0]
        run_case(cfg, stats, rng, kind, name)


# --- stalled connections ---------------------------------------------------------------------------------

class Slow:
    """One stalled connection: `sock` registered for reading; trickles one byte per 0.5 s when `trickle`."""

    def __init__(self, sock, kind, trickle):
        self.sock, self.kind, self.trickle = sock, kind, trickle
        self.opened = self.last_sent = time.monotonic()
        self.sent = 0


SLOW_HEAD = b"GET /static/1k.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"z" * 4096


def open_slow(cfg, rng):
    kinds = ["idle-connect", "trickle-head"]
    if cfg.tls:
        kinds += ["tls-partial-hello", "tls-hello-unfinished", "tls-trickle-head"]
    kind = rng.choice(kinds)
    sock = connect(cfg, tls=kind == "tls-trickle-head", timeout=5)
    if kind == "tls-partial-hello":
        hello = _client_hello(cfg)
        sock.sendall(hello[: rng.randint(1, len(hello) - 1)])
    elif kind == "tls-hello-unfinished":
        sock.sendall(_client_hello(cfg))  # the server answers, we never finish the handshake
    sock.setblocking(False)
    return Slow(sock, kind, trickle=kind.endswith("trickle-head"))


def slow_keeper(cfg, stats, rng, limit):
    """Keeps up to `limit` stalled connections open until the deadline; records how long the server let
    each live. A stalled connection still open after header timeout + margin is a violation."""
    selector = selectors.DefaultSelector()
    margin = max(3.0, cfg.header_timeout)
    open_ = {}
    while time.monotonic() < cfg.deadline and not stats.gone.is_set():
        while len(open_) < limit and time.monotonic() < cfg.deadline:
            try:
                slow = open_slow(cfg, rng)
            except ConnectionRefusedError as error:
                stats.connect_failed("slow", "open", error)
                break
            except OSError as error:
                stats.add("slow", "open", f"error {type(error).__name__}")
                time.sleep(0.1)
                break
            open_[slow.sock.fileno()] = slow
            selector.register(slow.sock, selectors.EVENT_READ, slow)
        for key, _ in selector.select(timeout=0.1):
            slow = key.data
            closed = False
            try:
                closed = not slow.sock.recv(65536)  # data (a ServerHello, an answer) is read and dropped
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                pass
            except (OSError, ssl.SSLError):
                closed = True
            if closed:
                _slow_done(stats, selector, open_, slow, "closed by the server")
        now = time.monotonic()
        for slow in list(open_.values()):
            if slow.trickle and now - slow.last_sent >= 0.5 and slow.sent < len(SLOW_HEAD):
                try:
                    slow.sock.send(SLOW_HEAD[slow.sent : slow.sent + 1])
                    slow.sent += 1
                    slow.last_sent = now
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    pass
                except (OSError, ssl.SSLError):
                    _slow_done(stats, selector, open_, slow, "closed by the server")
                    continue
            if now - slow.opened > cfg.header_timeout + margin:
                _slow_done(stats, selector, open_, slow, "outlived the header timeout",
                           f"{slow.kind}: still open {now - slow.opened:.1f} s after connecting "
                           f"(--header-timeout {cfg.header_timeout:g})")
    for slow in list(open_.values()):
        _slow_done(stats, selector, open_, slow, "closed by the attacker at the end")
    selector.close()


def _slow_done(stats, selector, open_, slow, outcome, violation=None):
    lifetime = time.monotonic() - slow.opened
    selector.unregister(slow.sock)
    del open_[slow.sock.fileno()]
    slow.sock.close()
    stats.add("slow", slow.kind, outcome, violation)
    if outcome == "closed by the server":
        with stats.lock:
            stats.slow_lifetimes.append(lifetime)


# --- summary ---------------------------------------------------------------------------------------------

def summarize(stats, elapsed):
    by_kind = collections.defaultdict(collections.Counter)
    for (kind, _), outcomes in stats.outcomes.items():
        by_kind[kind].update(outcomes)
    lines = []
    refuse = by_kind["refuse"]
    answered = sum(n for o, n in refuse.items() if o.startswith("status "))
    statuses = collections.Counter()
    for outcome, n in refuse.items():
        if outcome.startswith("status "):
            statuses[outcome.split()[1]] += n
    unexpected = collections.Counter()
    for (kind, case), outcomes in stats.outcomes.items():
        if kind != "refuse":
            continue
        expected = MALFORMED[case.split("+")[0]][1]
        for outcome, n in outcomes.items():
            if outcome.startswith("status ") and int(outcome.split()[1]) not in expected:
                unexpected[f"{case.split('+')[0]}→{outcome.split()[1]}"] += n
    lines.append(f"malformed sent {sum(refuse.values())}, answered {answered} "
                 f"({', '.join(f'{s}×{n}' for s, n in sorted(statuses.items())) or 'none'})")
    other = {o: n for o, n in refuse.items() if not o.startswith("status ")}
    if other:
        lines.append(f"  malformed not answered with a status: {dict(other)}")
    if unexpected:
        lines.append(f"  status outside the expected set (allowed, listed for review): {dict(unexpected)}")
    for kind, title in (("disconnect", "disconnects"), ("close", "non-TLS bytes on the HTTPS port")):
        if by_kind[kind]:
            per_case = collections.Counter()
            for (case_kind, case), outcomes in stats.outcomes.items():
                if case_kind == kind:
                    per_case[case] += sum(outcomes.values())
            cases = ", ".join(f"{c} {n}" for c, n in sorted(per_case.items()))
            lines.append(f"{title} {sum(by_kind[kind].values())} ({cases})")
            lines.append(f"  outcomes: {dict(sorted(by_kind[kind].items()))}")
    slow = by_kind["slow"]
    if slow:
        life = sorted(stats.slow_lifetimes)
        span = ""
        if life:
            span = f", lifetime {life[0]:.1f}–{life[len(life) // 2]:.1f}–{life[-1]:.1f} s (min–median–max)"
        lines.append(f"stalled connections {sum(slow.values())}: {dict(sorted(slow.items()))}{span}")
    control = by_kind["control"]
    lines.append(f"well-formed control GETs {sum(control.values())}: {dict(control)}")
    if stats.gone_at:
        lines.append(f"the server refused {stats.refused} connections, the {GONE_AFTER}th at {stats.gone_at}: "
                     "taken for gone, attack stopped")
    lines.append(f"violations {stats.violations} in {elapsed:.0f} s")
    groups = sorted(stats.violation_counts.items(), key=lambda item: -item[1])
    for (kind, case, outcome), n in groups[:MAX_LISTED]:
        first = next(s for s in stats.samples if (s["kind"], s["case"], s["outcome"]) == (kind, case, outcome))
        lines.append(f"  VIOLATION ×{n} {kind} {case}: {first['what']}" + (
            f"; first at {first['at']}, sent {first['sent_len']} bytes, received {first['received'][:100]!r}"
            if first["sent_len"] or first["received"] else f"; first at {first['at']}"))
    if len(groups) > MAX_LISTED:
        rest = sum(n for _, n in groups[MAX_LISTED:])
        lines.append(f"  … and {len(groups) - MAX_LISTED} more kinds of violation, {rest} in all (see the JSON)")
    return lines


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--slow-max", type=int, default=48)
    parser.add_argument("--header-timeout", type=float, default=2)
    parser.add_argument("--static-dir")
    parser.add_argument("--json")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--once", action="store_true", help="each case once, in order, then exit")
    args = parser.parse_args(argv[1:])
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    cfg, stats, started = Config(args), Stats(), time.monotonic()
    if args.once:
        rng = random.Random(seed)
        for _, kind, name in case_table(cfg.tls):
            run_case(cfg, stats, rng, kind, name)
    else:
        threads = [threading.Thread(target=worker, args=(cfg, stats, seed + i), daemon=True)
                   for i in range(args.workers)]
        if args.slow_max > 0:
            threads.append(threading.Thread(target=slow_keeper, daemon=True,
                                            args=(cfg, stats, random.Random(seed - 1), args.slow_max)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.duration + 60)
        if any(thread.is_alive() for thread in threads):
            stats.add("attack", "attacker", "stuck", "an attacker thread did not finish within the run + 60 s")
    elapsed = time.monotonic() - started
    for line in summarize(stats, elapsed):
        print(f"attack: {line}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"seed": seed, "seconds": round(elapsed, 1), "tls": cfg.tls, "violations": stats.violations,
                       "outcomes": {f"{kind} {case}": dict(o) for (kind, case), o in sorted(stats.outcomes.items())},
                       "slow_lifetimes": [round(x, 2) for x in stats.slow_lifetimes],
                       "samples": stats.samples}, f, indent=1)
    return 1 if stats.violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
