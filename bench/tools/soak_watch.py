#!/usr/bin/env python3
"""The server's memory and file descriptors during bench/soak.sh, read from /proc, and one GET.

    soak_watch.py now PID              -> "RSS_KIB HWM_KIB FDS THREADS" (VmRSS, VmHWM, entries of
                                          /proc/PID/fd, Threads), one line for bash's `read`; summed over
                                          PID and its descendants (procstat.py), for the nginx stand-in
    soak_watch.py sample PID FILE      -> appends "seconds rss_kib fds threads" to FILE every 0.5 s until
                                          PID exits or this process gets SIGTERM
    soak_watch.py peak FILE            -> "RSS_KIB FDS": the largest of each in a sample FILE
    soak_watch.py get URL              -> prints the status of GET URL (127.0.0.1 only; a self-signed
                                          certificate is accepted); exit 0 on 200

VmHWM is the process's peak RSS since it started, so it includes start-up and warm-up; the sample file
gives the peak during the soak itself. Standard library only.
"""

import os
import signal
import ssl
import sys
import time
import urllib.error
import urllib.request

import procstat


def status_fields(pid):
    """VmRSS and VmHWM (KiB) and Threads from /proc/PID/status."""
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM", "Threads"):
                fields[name] = int(value.split()[0])
    return fields.get("VmRSS", 0), fields.get("VmHWM", 0), fields.get("Threads", 0)


def tree_figures(root):
    """(rss, hwm, fds, threads) summed over `root` and its descendants: mywebsite is one process, but the
    nginx stand-in is a master and workers. Raises OSError once `root` is gone."""
    totals = [0, 0, 0, 0]
    for pid in [root, *procstat.descendants(root)]:
        try:
            rss, hwm, threads = status_fields(pid)
            fds = len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            if pid == root:
                raise
            continue  # a worker exited between the scan and the read
        for i, value in enumerate((rss, hwm, fds, threads)):
            totals[i] += value
    return totals


def now(pid):
    print(*tree_figures(pid))
    return 0


def sample(pid, path):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    started = time.monotonic()
    with open(path, "a", encoding="ascii") as out:
        while not stop:
            try:
                rss, _, fds, threads = tree_figures(pid)
            except OSError:
                break  # the server exited
            out.write(f"{time.monotonic() - started:.1f} {rss} {fds} {threads}\n")
            out.flush()
            time.sleep(0.5)
    return 0


def peak(path):
    rss = fds = 0
    with open(path, encoding="ascii") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 4:
                rss, fds = max(rss, int(parts[1])), max(fds, int(parts[2]))
    print(rss, fds)
    return 0


def get(url):
    if not url.startswith(("http://127.0.0.1:", "https://127.0.0.1:")):
        print(f"soak_watch.py: refusing non-loopback URL {url}", file=sys.stderr)
        return 2
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the bench's self-signed certificate
    try:
        with urllib.request.urlopen(url, timeout=10, context=context) as response:
            response.read()
            print(response.status)
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as error:
        print(error.code)
    except OSError as error:
        print(f"error: {error}")
    return 1


def main(argv):
    usage = "usage: soak_watch.py now PID | sample PID FILE | peak FILE | get URL"
    try:
        if argv[1] == "now" and len(argv) == 3:
            return now(int(argv[2]))
        if argv[1] == "sample" and len(argv) == 4:
            return sample(int(argv[2]), argv[3])
        if argv[1] == "peak" and len(argv) == 3:
            return peak(argv[2])
        if argv[1] == "get" and len(argv) == 3:
            return get(argv[2])
    except (IndexError, ValueError):
        pass
    except OSError as error:
        print(f"soak_watch.py: {error}", file=sys.stderr)
        return 1
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
