#!/usr/bin/env python3
"""An HTTP/1.1 download that stays in progress until told to finish (the drain test of run.sh).

    slow_client.py URL GO_FILE OUT_FILE

Reads the response to GET URL slowly (about 2 MB/s, so the request is still in progress when the server gets
SIGTERM) until GO_FILE exists, then at full speed to the end. Writes the body to OUT_FILE; exits 0 when the
body is exactly Content-Length bytes, 1 otherwise.

run.sh never creates GO_FILE: the client stays slow to the end, slower than the server's socket queue drains.
A server that exited once it had written the last byte would lose what is still queued with the container's
network namespace; the server stays until the client has acknowledged everything (lingering close).
"""

import os
import socket
import sys
import time
from urllib.parse import urlsplit

SLOW_CHUNK = 64 * 1024
SLOW_PAUSE = 0.03  # about 2 MB/s
TIMEOUT = 60


def main() -> int:
    url, go_file, out_file = sys.argv[1:4]
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=TIMEOUT)
    request = f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"
    sock.sendall(request.encode("ascii"))
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(SLOW_CHUNK)
        if not chunk:
            print("slow_client: connection closed before the response head", file=sys.stderr)
            return 1
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 200"):
        print(f"slow_client: {lines[0]}", file=sys.stderr)
        return 1
    length = next(int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:"))
    received = len(body)
    deadline = time.monotonic() + TIMEOUT
    with open(out_file, "wb") as out:
        out.write(body)
        while received < length and time.monotonic() < deadline:
            fast = os.path.exists(go_file)
            try:
                chunk = sock.recv(1 << 20 if fast else SLOW_CHUNK)
            except OSError as error:
                print(f"slow_client: {error} after {received} of {length} bytes", file=sys.stderr)
                return 1
            if not chunk:
                break
            out.write(chunk)
            received += len(chunk)
            if not fast:
                time.sleep(SLOW_PAUSE)
    if received != length:
        print(f"slow_client: got {received} of {length} bytes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
