#!/usr/bin/env python3
"""Binary hand-over under load: `SIGUSR2` three times in a row while wrk runs, and systemd socket activation.

Usage: handover.py BINARY

Scenario "own sockets": the server binds its ports; wrk runs with `Connection: close`, then with keep-alive;
during each run the serving process gets SIGUSR2 three times (each time the process the previous one started).
Every hand-over must end with the previous process exiting 0 and the new one serving; wrk must report no socket
error and no non-2xx response.

Scenario "failed upgrade": the binary on disk is replaced by one that exits 3; SIGUSR2 must log the failure
and leave the old process serving; with a good binary back, the next SIGUSR2 hands over.

Scenario "systemd": this script plays systemd: it opens the listening socket, passes it as fd 3 with
LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES, and listens on NOTIFY_SOCKET. The server must serve on that socket
without binding its own, say READY=1, and after SIGUSR2 the new process must say MAINPID=<its pid> before the
old one exits.

This process makes itself a child subreaper, so each orphaned predecessor's successor becomes its child and
every exit status can be read. Exits 1 with a message naming the first failure.
"""

import ctypes
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

PR_SET_CHILD_SUBREAPER = 36


def fail(message, log=None):
    print(f"FAIL: {message}")
    if log:
        print("---- server output ----")
        print(open(log, encoding="utf-8", errors="replace").read()[-6000:])
    sys.exit(1)


def wait_for(predicate, seconds, what, log=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    fail(f"timed out after {seconds} s waiting for {what}", log)


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def wait_exit(pid, seconds, log):
    """Waits for a child (direct or adopted as subreaper) and returns its exit code."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            if os.WIFEXITED(status):
                return os.WEXITSTATUS(status)
            fail(f"pid {pid} was killed by signal {os.WTERMSIG(status)}", log)
        time.sleep(0.02)
    fail(f"pid {pid} did not exit within {seconds} s", log)


def get(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def hand_over(current, log, count):
    """SIGUSR2 to `current`; returns the pid it started once `current` exited 0 and the new one serves."""
    os.kill(current, signal.SIGUSR2)
    pattern = re.compile(r"SIGUSR2: started the binary on disk.*?\bpid=(\d+)")
    started = wait_for(lambda: len(pattern.findall(read(log))) >= count and pattern.findall(read(log)),
                       30, f"hand-over {count} to start a process", log)
    successor = int(started[count - 1])
    status = wait_exit(current, 30, log)
    if status != 0:
        fail(f"pid {current} exited {status} after handing over", log)
    if not os.path.exists(f"/proc/{successor}"):
        fail(f"the new process {successor} is not running", log)
    return successor


def wrk_report(output, label):
    requests = re.search(r"(\d+) requests in", output)
    if not requests or int(requests.group(1)) == 0:
        fail(f"{label}: wrk made no request:\n{output}")
    if "Socket errors" in output or "Non-2xx" in output:
        fail(f"{label}: wrk saw failures:\n{output}")
    latency = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", output)
    print(f"{label}: {requests.group(1)} requests, 0 socket errors, 0 non-2xx"
          + (f" (latency avg {latency.group(1)}, max {latency.group(3)})" if latency else ""))


def own_sockets(binary, work):
    static = os.path.join(work, "static")
    os.makedirs(static)
    with open(os.path.join(static, "a.txt"), "w") as f:
        f.write("x" * 1024)
    log = os.path.join(work, "own.log")
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--threads", "2", "--static-path", static,
             "--shutdown-timeout", "20"], stdout=out, stderr=subprocess.STDOUT)
    port = int(wait_for(lambda: re.findall(r"listening: http://127\.0\.0\.1:(\d+)", read(log)), 30,
                        "the first listening line", log)[0])
    url = f"http://127.0.0.1:{port}/static/a.txt"
    current = server.pid
    count = 0
    for label, headers in (("Connection: close", ["-H", "Connection: close"]), ("keep-alive", [])):
        wrk = subprocess.Popen(["wrk", "-t2", "-c16", "-d12s", *headers, url], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        time.sleep(1.5)
        for _ in range(3):
            count += 1
            previous = current
            current = hand_over(current, log, count)
            status, body = get(url)
            if status != 200 or len(body) != 1024:
                fail(f"after hand-over {count}, the new process answered {status}", log)
            print(f"hand-over {count} ({label}): pid {previous} exited 0, pid {current} serves")
            time.sleep(1)
        output, _ = wrk.communicate(timeout=60)
        if wrk.returncode != 0:
            fail(f"wrk exited {wrk.returncode}:\n{output}")
        wrk_report(output, label)
    os.kill(current, signal.SIGTERM)
    if wait_exit(current, 30, log) != 0:
        fail("the last process did not exit 0 on SIGTERM", log)


def as_fd_3(fd):
    """In the child, before exec: the socket becomes fd 3, as systemd passes it (not close-on-exec, so the sh
    in between keeps it). Popen runs this before it would close the other fds, hence close_fds=False at the
    call; Python's own descriptors are close-on-exec anyway."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 100)
    os.dup2(moved, 3)
    os.close(moved)


def receive(notify, log):
    try:
        return notify.recv(4096).decode()
    except TimeoutError:
        fail("no sd_notify message within 30 s", log)


def systemd(binary, work):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    notify_path = os.path.join(work, "notify")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(30)
    log = os.path.join(work, "systemd.log")
    env = dict(os.environ, LISTEN_FDS="1", LISTEN_FDNAMES="http", NOTIFY_SOCKET=notify_path)
    fd = listener.fileno()
    with open(log, "wb") as out:
        # As systemd does: the socket is fd 3 and LISTEN_PID is the pid that runs the server (exec keeps it).
        server = subprocess.Popen(
            ["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$@"', "sh", binary, "serve", "--host", "127.0.0.1", "--port",
             "1", "--threads", "2"],
            env=env, stdout=out, stderr=subprocess.STDOUT, close_fds=False, preexec_fn=lambda: as_fd_3(fd))
    message = receive(notify, log)
    if "READY=1" not in message:
        fail(f"the first notification was {message!r}, not READY=1", log)
    listening = wait_for(lambda: re.findall(r"listening: http://[^:]+:(\d+)", read(log)), 10, "listening", log)
    if int(listening[0]) != port:
        fail(f"the server listens on {listening[0]}, not on the inherited socket's port {port}", log)
    # --port 1 was never bound: it could not be, unprivileged; the inherited socket answers.
    status, _ = get(f"http://127.0.0.1:{port}/healthz")
    if status != 200:
        fail(f"/healthz on the inherited socket answered {status}", log)
    listener.close()  # only the server holds it now, as after systemd passed it
    os.kill(server.pid, signal.SIGUSR2)
    message = receive(notify, log)
    main = re.search(r"MAINPID=(\d+)", message)
    if not main or "READY=1" not in message:
        fail(f"after SIGUSR2 the notification was {message!r}, not MAINPID=… READY=1", log)
    successor = int(main.group(1))
    if successor == server.pid:
        fail("MAINPID names the old process", log)
    if wait_exit(server.pid, 30, log) != 0:
        fail("the old process did not exit 0", log)
    status, _ = get(f"http://127.0.0.1:{port}/healthz")
    if status != 200:
        fail(f"after the hand-over /healthz answered {status}", log)
    print(f"systemd: served on inherited fd 3, READY=1, then MAINPID={successor} READY=1 after SIGUSR2; "
          f"pid {server.pid} exited 0")
    os.kill(successor, signal.SIGTERM)
    if wait_exit(successor, 30, log) != 0:
        fail("the successor did not exit 0 on SIGTERM", log)


def failed_upgrade(binary, work):
    """The binary on disk is what SIGUSR2 starts: a broken one is refused and the old process serves on."""
    installed = os.path.join(work, "bin", "mywebsite")
    os.makedirs(os.path.dirname(installed))
    shutil.copy2(binary, installed)
    log = os.path.join(work, "failed.log")
    with open(log, "wb") as out:
        server = subprocess.Popen([installed, "serve", "--host", "127.0.0.1", "--port", "0", "--threads", "1"],
                                  stdout=out, stderr=subprocess.STDOUT)
    port = int(wait_for(lambda: re.findall(r"listening: http://127\.0\.0\.1:(\d+)", read(log)), 30,
                        "the first listening line", log)[0])
    # Install a broken "release" the way package managers do: a new file renamed over the old path.
    broken = installed + ".new"
    with open(broken, "w") as f:
        f.write("#!/bin/sh\necho 'broken release' >&2\nexit 3\n")
    os.chmod(broken, 0o755)
    os.rename(broken, installed)
    os.kill(server.pid, signal.SIGUSR2)
    wait_for(lambda: "upgrade failed: the new process exited (exit status 3)" in read(log), 30,
             "the failed upgrade to be logged", log)
    status, _ = get(f"http://127.0.0.1:{port}/healthz")
    if status != 200 or server.poll() is not None:
        fail("the old process stopped serving after a failed upgrade", log)
    # The real binary back in place: the next SIGUSR2 succeeds.
    shutil.copy2(binary, broken)
    os.rename(broken, installed)
    successor = hand_over(server.pid, log, 2)
    status, _ = get(f"http://127.0.0.1:{port}/healthz")
    if status != 200:
        fail("the process started after the failed upgrade does not serve", log)
    print(f"failed upgrade: exit status 3 logged, pid {server.pid} kept serving, then handed over to {successor}")
    os.kill(successor, signal.SIGTERM)
    if wait_exit(successor, 30, log) != 0:
        fail("the successor did not exit 0 on SIGTERM", log)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(64)
    binary = os.path.abspath(sys.argv[1])
    if shutil.which("wrk") is None:
        fail("wrk is not installed (scripts/setup.sh installs it)")
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        fail("prctl(PR_SET_CHILD_SUBREAPER) failed")
    work = tempfile.mkdtemp(prefix="mywebsite-handover-")
    try:
        own_sockets(binary, work)
        systemd(binary, work)
        failed_upgrade(binary, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
