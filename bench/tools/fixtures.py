#!/usr/bin/env python3
"""Static files served by both servers, and a check that each server returns them byte for byte.

    fixtures.py make DIR          -> writes DIR/1k.bin, DIR/12k.bin, DIR/100k.bin, DIR/1m.bin (fixed pseudo-random bytes)
    fixtures.py check URL FILE [HEAD_OUT]
                                  -> exit 0 when GET URL returns 200 and exactly FILE's bytes; HEAD_OUT,
                                     when given, gets the response's status line and header fields
    fixtures.py resumes PORT PATH -> prints "yes" when the TLS server on 127.0.0.1:PORT resumes a session

The bytes are random so no compression or caching trick can shrink them, and fixed (seeded) so every
run and both servers serve the same content. The check accepts a self-signed certificate: it only
ever talks to 127.0.0.1. Standard library only.
"""

import hashlib
import os
import random
import socket
import ssl
import sys
import urllib.request

SIZES = {"1k.bin": 1024, "12k.bin": 12 * 1024, "100k.bin": 100 * 1024, "1m.bin": 1024 * 1024}


def make(directory):
    os.makedirs(directory, exist_ok=True)
    for name, size in SIZES.items():
        data = random.Random(f"mywebsite-bench-{name}").randbytes(size)
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
    return 0


def check(url, path, head_out=None):
    if not url.startswith(("http://127.0.0.1:", "https://127.0.0.1:")):
        print(f"fixtures.py: refusing non-loopback URL {url}", file=sys.stderr)
        return 2
    with open(path, "rb") as f:
        expected = f.read()
    context = _client_context()
    try:
        # urllib sends "Accept-Encoding: identity": the body is never compressed, as with wrk (which sends none).
        with urllib.request.urlopen(url, timeout=10, context=context) as response:
            status, body = response.status, response.read()
            if head_out:
                with open(head_out, "w", encoding="utf-8") as f:
                    f.write(f"HTTP/{response.version / 10:.1f} {status} {response.reason}\n{response.headers}")
    except OSError as error:  # URLError and HTTPError are OSErrors
        print(f"check {url}: {error}", file=sys.stderr)
        return 1
    if status != 200 or body != expected:
        digest = hashlib.sha256(body).hexdigest()[:16]
        print(f"check {url}: status {status}, {len(body)} bytes sha256 {digest}…, "
              f"expected 200 and {len(expected)} bytes of {path}", file=sys.stderr)
        return 1
    return 0


def _client_context():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # self-signed bench certificate on 127.0.0.1
    return context


def resumes(port, path):
    """Whether a second connection offering the first one's session (ticket or ID) resumes it.

    wrk and h2load both offer the previous session on reconnect, so a server that resumes turns the
    "new connection" scenarios into abbreviated handshakes; the report says so.
    """
    context, session = _client_context(), None
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    for _ in range(2):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with context.wrap_socket(raw, session=session) as tls:
                reused = tls.session_reused
                tls.sendall(request)
                while tls.recv(65536):  # read to EOF: TLS 1.3 tickets arrive after the handshake
                    pass
                session = tls.session
    print("yes" if reused else "no")
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "make":
        return make(argv[2])
    if len(argv) in (4, 5) and argv[1] == "check":
        return check(*argv[2:])
    if len(argv) == 4 and argv[1] == "resumes" and argv[2].isdigit():
        return resumes(int(argv[2]), argv[3])
    print("usage: fixtures.py make DIR | check URL FILE [HEAD_OUT] | resumes PORT PATH", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
