"""The systemd units (deployments/systemd): systemd's own checker accepts them, their hardening scores as
"OK", and the service starts the way they describe it: the real binary, the unit's ExecStart flags, the sockets
named as the .socket units name them, READY=1 on NOTIFY_SOCKET, HTTPS served and HTTP redirected."""

from __future__ import annotations

import fcntl
import os
import shlex
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

UNITS = ROOT / "deployments" / "systemd"
SERVICE = UNITS / "mywebsite.service"


def unit_entries(path: Path) -> dict[str, list[str]]:
    """Key → values of a unit file (continuation lines joined, repeated keys kept in order)."""
    entries: dict[str, list[str]] = {}
    pending = ""
    for raw in path.read_text().splitlines():
        line = pending + raw.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if not line or line[0] in "#;[":
            continue
        key, _, value = line.partition("=")
        entries.setdefault(key.strip(), []).append(value.strip())
    return entries


@pytest.fixture
def units(tmp_path: Path, mywebsite_bin: Path) -> Path:
    """The units, with ExecStart pointing at the binary under test (nothing else changed)."""
    copy = tmp_path / "units"
    shutil.copytree(UNITS, copy)
    service = copy / SERVICE.name
    service.write_text(service.read_text().replace("/usr/local/bin/mywebsite", str(mywebsite_bin)))
    return copy


def test_systemd_analyze_verify_accepts_every_unit(units: Path):
    names = sorted(p.name for p in units.iterdir() if p.suffix in (".service", ".socket"))
    assert names == ["mywebsite-http.socket", "mywebsite-https.socket", "mywebsite.service"]
    result = subprocess.run(["systemd-analyze", "verify", *names], cwd=units, capture_output=True, text=True)
    # verify exits 0 on unknown keys and bad values too: any line it prints is a finding.
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stdout + result.stderr


def test_the_service_sandbox_scores_ok(units: Path):
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(units / SERVICE.name)],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Overall exposure level for mywebsite.service: 1." in result.stdout, result.stdout[-500:]


def test_the_service_serves_on_the_sockets_its_units_declare(tmp_path: Path, mywebsite_bin: Path,
                                                             mywebsite_data_bin: Path):
    entries = unit_entries(SERVICE)
    assert entries["Type"] == ["notify"] and entries["NotifyAccess"] == ["all"]
    # The sockets in the order systemd passes them (Sockets=), each on a free local port instead of 443/80.
    listeners, names, ports = [], [], {}
    for unit in entries["Sockets"][0].split():
        socket_entries = unit_entries(UNITS / unit)
        name = socket_entries["FileDescriptorName"][0]
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(int(socket_entries.get("Backlog", ["128"])[0]))
        listeners.append(sock)
        names.append(name)
        ports[name] = sock.getsockname()[1]
    assert sorted(names) == ["http", "https"]
    # ExecStart as written, its host paths mapped into this test's directory.
    state, logs = tmp_path / "state", tmp_path / "logs"
    for directory in (state / "config", logs):
        directory.mkdir(parents=True)
    subprocess.run([mywebsite_data_bin, "build", ROOT / "content", "--out", state / "data"], check=True,
                   capture_output=True)
    mapping = {"/usr/local/share/mywebsite/web": str(ROOT / "web"), "/var/lib/mywebsite": str(state),
               "/var/log/mywebsite": str(logs)}
    argv = shlex.split(entries["ExecStart"][0])
    assert argv[0] == "/usr/local/bin/mywebsite"
    argv = [str(mywebsite_bin)] + [next((a.replace(k, v) for k, v in mapping.items() if a.startswith(k)), a)
                                   for a in argv[1:]]
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(30)
    fds = [s.fileno() for s in listeners]

    def as_systemd_does():
        # fds 3, 4, ... in Sockets= order, moved out of the way first. (Runs before Popen would close the other
        # fds, hence close_fds=False: Python's own descriptors are close-on-exec anyway.)
        moved = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in fds]
        for index, fd in enumerate(moved):
            os.dup2(fd, 3 + index)

    env = {"PATH": os.environ["PATH"], "LISTEN_FDS": str(len(fds)), "LISTEN_FDNAMES": ":".join(names),
           "NOTIFY_SOCKET": str(tmp_path / "notify")}
    server = subprocess.Popen(["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$@"', "sh", *argv], env=env,
                              close_fds=False, preexec_fn=as_systemd_does, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        try:
            ready = notify.recv(4096).decode()
        except TimeoutError:
            server.kill()
            pytest.fail(f"no READY=1 within 30 s: {server.communicate()[0][-3000:]}")
        assert "READY=1" in ready
        https = subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}",
                                f"https://127.0.0.1:{ports['https']}/fr/"], capture_output=True, text=True)
        assert https.stdout == "200", https
        plain = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                                f"http://127.0.0.1:{ports['http']}/fr/"], capture_output=True, text=True)
        status, location = plain.stdout.split(" ", 1)
        assert status in ("301", "308") and location.startswith("https://"), plain.stdout
        assert location.endswith(f":{ports['https']}/fr/"), location
        assert (logs / "access.log").exists() and (state / "config").iterdir()
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=int(entries["TimeoutStopSec"][0]))
    assert server.returncode == 0, output[-3000:]
    assert "listening: https://" in output, output[-3000:]
