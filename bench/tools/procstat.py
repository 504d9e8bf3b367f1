#!/usr/bin/env python3
"""CPU time and resident memory of a server's process tree, read from /proc.

A server is named by one PID, its root: for mywebsite the only process, for nginx the master. Its
workers are the root's descendants, found by scanning /proc/*/stat for parent PIDs.

    procstat.py cpu PID   -> CPU seconds (utime + stime, all threads) of PID and its descendants
    procstat.py rss PID   -> JSON {"root_kib", "children_kib", "total_kib", "pids"}
    procstat.py threads PID -> JSON {thread name: {"cpu", "reads", "writes"}} of PID's own threads

The threads view is how the report tells the event loops apart (mywebsite names them loop-0, loop-1...):
CPU seconds from /proc/PID/task/TID/stat, and read and write system calls (syscr, syscw: every read(2),
writev(2), sendfile(2)... call, whatever its result) from /proc/PID/task/TID/io. For keep-alive responses
that fit the socket buffer a loop makes one write call per response, so "writes" counts its responses.

/proc/PID/stat counts every thread of a process, live or exited (proc(5), fields 14 and 15), so one
read per process covers a multi-threaded server. It does not count descendants that are still alive;
those are read one by one. Standard library only.
"""

import json
import os
import sys

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    """Fields of /proc/PID/stat after the command name, which may itself contain spaces and ')'.

    Index 0 is field 3 (state) of proc(5); so ppid is [1], utime [11], stime [12].
    """
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
        text = f.read()
    return text[text.rindex(")") + 2 :].split()


def descendants(root):
    """PIDs of every live descendant of `root` (children, grandchildren...), sorted."""
    parent_of = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            parent_of[int(entry)] = int(_stat_fields(entry)[1])
        except (OSError, ValueError, IndexError):
            continue  # the process exited while we scanned
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        kids = [pid for pid, ppid in parent_of.items() if ppid == parent]
        found.extend(kids)
        frontier.extend(kids)
    return sorted(found)


def cpu_seconds(pid):
    """utime + stime of one process (all its threads), in seconds."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def tree_cpu_seconds(root):
    """CPU seconds of `root` plus its live descendants. Raises if `root` itself is gone."""
    total = cpu_seconds(root)
    for pid in descendants(root):
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass  # a descendant exited between the scan and the read
    return total


def rss_kib(pid):
    """VmRSS of one process in KiB, from /proc/PID/status (0 for a zombie, which has no VmRSS)."""
    with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def tree_rss(root):
    """Resident memory of a server: the root separately from the sum of its descendants.

    For nginx, root is the master and children are the workers, which hold the connections.
    For a single-process server children is 0 and the root holds everything.
    """
    root_kib = rss_kib(root)
    children, pids = 0, [root]
    for pid in descendants(root):
        try:
            children += rss_kib(pid)
            pids.append(pid)
        except OSError:
            pass
    return {"root_kib": root_kib, "children_kib": children, "total_kib": root_kib + children, "pids": pids}


def thread_stats(pid):
    """{name: {"cpu", "reads", "writes"}} of each thread of one process (names made unique with #TID)."""
    stats = {}
    for tid in sorted(os.listdir(f"/proc/{pid}/task"), key=int):
        base = f"/proc/{pid}/task/{tid}"
        try:
            with open(f"{base}/comm", encoding="ascii", errors="replace") as f:
                name = f.read().strip()
            fields = _stat_fields(f"{pid}/task/{tid}")
            io = {}
            with open(f"{base}/io", encoding="ascii") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    io[key] = int(value)
        except (OSError, ValueError):
            continue  # the thread exited while we read it
        if name in stats:
            name = f"{name}#{tid}"
        stats[name] = {"cpu": (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, "reads": io.get("syscr", 0),
                       "writes": io.get("syscw", 0)}
    return stats


def connection_kib(rss):
    """The part of a tree's RSS that grows with connections: workers if any, else the root."""
    return rss["children_kib"] if len(rss["pids"]) > 1 else rss["root_kib"]


def main(argv):
    if len(argv) != 3 or argv[1] not in ("cpu", "rss", "pids", "threads") or not argv[2].isdigit():
        print("usage: procstat.py cpu|rss|pids|threads PID", file=sys.stderr)
        return 2
    pid = int(argv[2])
    try:
        if argv[1] == "cpu":
            print(f"{tree_cpu_seconds(pid):.2f}")
        elif argv[1] == "rss":
            print(json.dumps(tree_rss(pid)))
        elif argv[1] == "threads":
            print(json.dumps(thread_stats(pid)))
        else:
            print(" ".join(str(p) for p in [pid, *descendants(pid)]))
    except OSError as error:
        print(f"procstat.py: process {pid}: {error.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
