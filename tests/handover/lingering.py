#!/usr/bin/env python3
"""No response tail lost: lingering close after an error answer, and a slow download through SIGTERM.

Usage: lingering.py BINARY

1. A client uploads 8 MB to a static file in one go (as a browser form does) without reading: the server
   answers 405 before the body has arrived. It must then half-close and discard the rest, so the client's
   upload completes, it reads the whole 405 and then EOF: no ECONNRESET on either side. (A plain close(2)
   with unread input makes the kernel answer with RST.)
2. A client reads a 5 MB file at 100 KB/s; the server gets SIGTERM a second in. It must finish the response,
   stay until the client has acknowledged every byte (a container's network goes with the process), and exit
   0; the client must get all 5 MB, intact.
3. The same over TLS (direct-TLS mode, 2 MB): the TLS stream's own closing (the tail, close_notify, the peer's
   FIN) must hold the server's exit too.

Exits 1 with a message naming the first failure.
"""

import hashlib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time


def fail(message, log=None):
    print(f"FAIL: {message}")
    if log:
        with open(log, encoding="utf-8", errors="replace") as f:
            print("---- server output ----\n" + f.read()[-6000:])
    sys.exit(1)


def start(binary, static, log, *extra):
    with open(log, "wb") as out:
        server = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", "0", "--threads", "1",
                                   "--static-path", static, *extra], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(log, encoding="utf-8", errors="replace") as f:
            found = re.search(r"listening: https?://127\.0\.0\.1:(\d+)", f.read())
        if found:
            return server, int(found.group(1))
        if server.poll() is not None:
            break
        time.sleep(0.02)
    fail("the server did not start", log)


def upload_refused(binary, static, work):
    log = os.path.join(work, "upload.log")
    server, port = start(binary, static, log)
    body = b"x" * 8_000_000
    for attempt in range(3):
        client = socket.create_connection(("127.0.0.1", port), timeout=30)
        try:
            client.sendall(b"POST /static/small.txt HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
                           % len(body) + body)
            received = b""
            while chunk := client.recv(65536):
                received += chunk
        except OSError as error:
            fail(f"upload {attempt + 1}: {error!r} (the server closed with unread input: RST)", log)
        finally:
            client.close()
        head, _, rest = received.partition(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: (\d+)", head)
        if not head.startswith(b"HTTP/1.1 405") or not length or len(rest) != int(length.group(1)):
            fail(f"upload {attempt + 1}: expected a whole 405, got {received[:200]!r}", log)
    server.send_signal(signal.SIGTERM)
    if server.wait(timeout=30) != 0:
        fail("the server did not exit 0", log)
    print("upload refused: 3 times a whole 405 then EOF, no reset, while sending 8 MB")


def slow_download(binary, static, work, tls=None):
    """tls: (certificate, key) to serve HTTPS in direct-TLS mode; None for plain HTTP."""
    name, size = ("big.bin", 5_000_000) if tls is None else ("medium.bin", 2_000_000)
    log = os.path.join(work, "download-tls.log" if tls else "download.log")
    mode = [] if tls is None else ["--mode", "direct-tls", "--https-port", "0", "--http-port", "0",
                                   "--cert", tls[0], "--key", tls[1]]
    server, port = start(binary, static, log, "--shutdown-timeout", "120", *mode)
    # A slow reader (curl 7.88's --limit-rate does not hold back reads on loopback): a 64 KiB receive buffer
    # and 10 KB every 0.1 s, so the server's send queue stays full and the download lasts about 50 s (20 s).
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    client.settimeout(60)
    client.connect(("127.0.0.1", port))
    if tls is not None:
        context = ssl.create_default_context(cafile=tls[0])
        client = context.wrap_socket(client, server_hostname="127.0.0.1")
    client.sendall(b"GET /static/%s HTTP/1.1\r\nHost: t\r\n\r\n" % name.encode())
    started = time.monotonic()
    received = b""
    signalled = False
    exited_with = None  # bytes the client had read when the server was seen gone
    try:
        while True:
            chunk = client.recv(10_000)
            if not chunk:
                break
            received += chunk
            if exited_with is None and server.poll() is not None:
                exited_with = len(received)
            if not signalled and time.monotonic() - started >= 1:
                server.send_signal(signal.SIGTERM)
                signalled = True
            time.sleep(0.1)
    except OSError as error:
        fail(f"the download broke after {len(received)} bytes: {error!r}", log)
    finally:
        client.close()
    elapsed = time.monotonic() - started
    head, _, body = received.partition(b"\r\n\r\n")
    with open(os.path.join(static, name), "rb") as f:
        expected = hashlib.sha256(f.read()).hexdigest()
    if not head.startswith(b"HTTP/1.1 200"):
        fail(f"unexpected head: {head!r}", log)
    if not signalled or elapsed < size / 250_000:
        fail(f"the download took {elapsed:.1f} s: too fast to have crossed the shutdown", log)
    if len(body) != size or hashlib.sha256(body).hexdigest() != expected:
        fail(f"received {len(body)} bytes, not the {size:,} of the file", log)
    # In a container the network namespace goes with the last process: bytes still in the server's send queue
    # would be lost. So the server must stay until the client's kernel has acknowledged everything; what is
    # left to read then is at most its receive buffer and what was in flight (well under 400 KB).
    if exited_with is not None and exited_with < size - 400_000:
        fail(f"the server exited when the client had read only {exited_with} bytes: its send queue was not "
             "acknowledged yet", log)
    try:
        status = server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        fail("the server did not exit after the download", log)
    if status != 0:
        fail(f"the server exited {status}", log)
    print(f"slow download{' over TLS' if tls else ''}: {size:,} bytes intact in {elapsed:.1f} s through SIGTERM at "
          "1 s; server exited 0")


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(64)
    binary = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="mywebsite-lingering-")
    try:
        static = os.path.join(work, "static")
        os.makedirs(static)
        with open(os.path.join(static, "small.txt"), "w") as f:
            f.write("small\n")
        with open(os.path.join(static, "big.bin"), "wb") as f:
            f.write(os.urandom(5_000_000))
        with open(os.path.join(static, "medium.bin"), "wb") as f:
            f.write(os.urandom(2_000_000))
        certificate, key = os.path.join(work, "server.crt"), os.path.join(work, "server.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", certificate], check=True, capture_output=True)
        upload_refused(binary, static, work)
        slow_download(binary, static, work)
        slow_download(binary, static, work, tls=(certificate, key))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
