"""The Ansible deployment, run for real on this machine (`-c local`) into a temporary directory.

Nothing here needs Docker or a remote host: the compose tool and the container CLI are stand-ins that record
their calls (stand-ins/compose, stand-ins/container) through the role's `command` compose tool, the package
registry is package_registry.py on 127.0.0.1, and the data packages are built by `mywebsite-data` from
content/ and validated by the host-built `mywebsite data check`. The real server then serves the deployed
data directory, so the symlink switch is checked end to end.

The tests run in order and share one deployment: each is a step of its life.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import tarfile
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from conftest import HERE, ROOT, STAND_INS, VENV_BIN, tool_env

ANSIBLE_DIR = ROOT / "deployments" / "ansible"
TOKEN = "test-job-token"
RECAP = re.compile(r"^int-web-1\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


class Deployment:
    """One deployment's temporary world: host directories, registry, stand-in state, logs."""

    def __init__(self, root: Path, mywebsite: Path, mywebsite_data: Path):
        self.root = root
        self.mywebsite = mywebsite
        self.base = root / "host" / "opt" / "mywebsite"
        self.data_root = self.base / "website-data"
        self.registry = root / "registry"
        self.packages = self.registry / "api/v4/projects/42/packages/generic/website-data"
        self.registry_log = root / "registry.log"
        self.standin_log = root / "stand-ins.log"
        self.standin_state = root / "stand-in-state"
        self.standin_state.mkdir(parents=True)
        self.logrotate_file = root / "etc" / "logrotate.d" / "mywebsite"
        self.logrotate_file.parent.mkdir(parents=True)
        self.registry_log.touch()
        self.standin_log.touch()
        self.mywebsite_data = mywebsite_data
        self.registry_process: subprocess.Popen | None = None
        self.server: subprocess.Popen | None = None
        self.server_url = ""

    # --- data packages ---

    def build_package(self, ref: str, content: Path) -> Path:
        data = self.root / "build" / ref
        target = self.packages / ref / "data.tgz"
        target.parent.mkdir(parents=True, exist_ok=True)
        for argv in ([self.mywebsite_data, "build", content, "--out", data],
                     [self.mywebsite_data, "package", data, "--out", target]):
            subprocess.run([str(a) for a in argv], check=True, capture_output=True, timeout=120)
        return target

    def build_broken_package(self, ref: str, good: Path) -> None:
        """A package whose archive is fine but whose database is not a database."""
        unpacked = self.root / "build" / f"{ref}-unpacked"
        with tarfile.open(good) as archive:
            archive.extractall(unpacked, filter="data")
        (unpacked / "site.db").write_bytes(b"this is not an SQLite database\n" * 64)
        target = self.packages / ref / "data.tgz"
        target.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(target, "w:gz") as archive:
            for name in ("site.db", "articles"):
                archive.add(unpacked / name, arcname=name)

    # --- registry and server ---

    def start_registry(self) -> str:
        self.registry_process = subprocess.Popen(
            [str(VENV_BIN / "python"), str(HERE / "package_registry.py"), str(self.registry),
             str(self.registry_log), TOKEN], stdout=subprocess.PIPE, text=True)
        port = self.registry_process.stdout.readline().strip()
        return f"http://127.0.0.1:{port}/api/v4"

    def start_server(self) -> None:
        self.server = subprocess.Popen(
            [str(self.mywebsite), "serve", "--host", "127.0.0.1", "--port", "0", "--threads", "1",
             "--data-path", str(self.data_root / "current"), "--static-path", str(ROOT / "web/static"),
             "--templates-path", str(ROOT / "web/templates"), "--access-log", "off",
             "--site-url", "http://localhost"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.server.stdout.readline()
            if line.startswith("listening: "):
                self.server_url = line.split(" ", 1)[1].strip()
                return
            if not line and self.server.poll() is not None:
                break
        raise AssertionError("mywebsite serve did not print its URL")

    def page(self, path: str) -> str:
        with urllib.request.urlopen(self.server_url + path, timeout=5) as response:
            return response.read().decode()

    def wait_for_page(self, path: str, text: str, seconds: float = 10) -> str:
        deadline = time.monotonic() + seconds
        body = ""
        while time.monotonic() < deadline:
            body = self.page(path)
            if text in body:
                return body
            time.sleep(0.2)
        raise AssertionError(f"{path} never showed {text!r}; last page title: "
                             f"{re.search(r'<title>(.*?)</title>', body).group(1) if '<title>' in body else body[:200]}")

    def stop(self) -> None:
        for process in (self.server, self.registry_process):
            if process and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if process and process.stdout:
                process.stdout.close()

    # --- the playbook ---

    def write_vars(self, registry_url: str, nginx_dir: Path) -> Path:
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        variables = {
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "ansible_become": False,
            "application_base_dir": str(self.base),
            "application_manage_user": False,
            "application_manage_packages": False,
            "application_user": user,
            "application_group": group,
            "application_uid": os.getuid(),
            "application_gid": os.getgid(),
            "application_certificate_names": ["localhost", "127.0.0.1"],
            "application_nginx_config_src": f"{nginx_dir}/",
            "application_compose_tool": "command",
            "application_compose_command": [str(STAND_INS / "compose")],
            "application_container_command": str(STAND_INS / "container"),
            "application_compose_environment": {"STANDIN_LOG": str(self.standin_log),
                                                "STANDIN_STATE": str(self.standin_state)},
            "application_logrotate_file": str(self.logrotate_file),
            "application_logrotate_owner": user,
            "application_gitlab_api_url": registry_url,
            "application_gitlab_project_id": "42",
            "application_gitlab_token": TOKEN,
            # The host-built binary instead of `docker run IMAGE data check`.
            "application_data_check_command": [str(self.mywebsite), "data", "check",
                                               "{{ application_data_candidate_dir }}"],
        }
        path = self.root / "test-vars.yml"
        path.write_text(yaml.safe_dump(variables))
        return path

    def deploy(self, image_tag: str, data_ref: str = "", **extra: str) -> tuple[subprocess.CompletedProcess, dict]:
        return self.play("deploy.yml", ["-e", f"application_image_tag={image_tag}",
                                        "-e", f"application_website_data_ref={data_ref}"], **extra)

    def rollback(self) -> tuple[subprocess.CompletedProcess, dict]:
        return self.play("rollback.yml", [])

    def record(self) -> dict:
        return yaml.safe_load((self.base / "deployment.yml").read_text())

    def play(self, playbook: str, arguments: list[str], **extra: str) -> tuple[subprocess.CompletedProcess, dict]:
        log_before = self.standin_log.read_text()
        registry_before = self.registry_log.read_text()
        argv = [str(VENV_BIN / "ansible-playbook"), "-i", "inventories/int", playbook, "-c", "local",
                "-e", f"@{self.root / 'test-vars.yml'}", *arguments]
        for key, value in extra.items():
            argv += ["-e", f"{key}={value}"]
        env = tool_env(ANSIBLE_CONFIG=str(ANSIBLE_DIR / "ansible.cfg"), ANSIBLE_HOME=str(self.root / "ansible-home"),
                       ANSIBLE_LOCAL_TEMP=str(self.root / "ansible-tmp"), ANSIBLE_NOCOLOR="1",
                       ANSIBLE_FORCE_COLOR="0")
        result = subprocess.run(argv, cwd=ANSIBLE_DIR, env=env, capture_output=True, text=True, timeout=300,
                                stdin=subprocess.DEVNULL)
        match = RECAP.search(result.stdout)
        recap = dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups()))) if match else {}
        recap["calls"] = self.standin_log.read_text()[len(log_before):].splitlines()
        recap["downloads"] = self.registry_log.read_text()[len(registry_before):].splitlines()
        return result, recap

    def current(self) -> str:
        return os.readlink(self.data_root / "current")

    def releases(self) -> set[str]:
        return {p.name for p in (self.data_root / "releases").iterdir()}


def restarts(calls: list[str]) -> list[str]:
    return [c for c in calls if re.search(r" (up|restart|down)( |$)", c)]


def rolling(calls: list[str]) -> list[str]:
    """The replicas the rolling update re-created, in order, with "reload" for each SIGHUP to nginx."""
    steps = []
    for call in calls:
        if match := re.search(r" up --detach --no-deps --force-recreate (\S+)$", call):
            steps.append(match.group(1))
        elif call.startswith("container kill --signal HUP "):
            steps.append("reload")
    return steps


@pytest.fixture(scope="module")
def nginx_dir(module_workdir) -> Path:
    """The repository's nginx configuration (deployments/nginx/), copied by the role."""
    path = Path(os.environ.get("DELIVERY_NGINX_DIR") or ROOT / "deployments" / "nginx")
    if not path.is_dir() or not any(path.iterdir()):
        pytest.fail(f"{path} is missing: the role installs the repository's nginx configuration from there")
    return path


@pytest.fixture(scope="module")
def world(module_workdir, mywebsite_bin, mywebsite_data_bin, nginx_dir):
    deployment = Deployment(module_workdir, mywebsite_bin, mywebsite_data_bin)
    try:
        good = deployment.build_package("a1b2c3d", ROOT / "content")
        # Release B: the same content with another English site title, to see the switch on the served site.
        content_b = module_workdir / "content-b"
        shutil.copytree(ROOT / "content", content_b)
        site = content_b / "site.yml"
        site.write_text(site.read_text().replace("Notes from the server room", "Notes from release B"))
        deployment.build_package("v1.1.0", content_b)
        deployment.build_broken_package("broken", good)
        deployment.write_vars(deployment.start_registry(), nginx_dir)
        yield deployment
    finally:
        deployment.stop()


def test_first_deployment_installs_everything(world):
    result, recap = world.deploy("1.0.0", "a1b2c3d")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert recap["failed"] == 0 and recap["changed"] > 0

    compose = world.base / "docker-compose.yml"
    assert stat_mode(compose) == 0o600
    assert compose.stat().st_uid == os.getuid()
    rendered = yaml.safe_load(compose.read_text())
    assert rendered["services"]["mywebsite"]["image"] == "docker.io/mywebsite/mywebsite:1.0.0"
    assert rendered["services"]["mywebsite"]["environment"]["DATA_PATH"] == "/app/data/current"
    assert f"{world.data_root}:/app/data:ro" in rendered["services"]["mywebsite"]["volumes"]
    assert set(rendered["services"]) == {"mywebsite", "mywebsite-2", "reverse_proxy"}
    assert rendered["services"]["mywebsite-2"]["image"] == "docker.io/mywebsite/mywebsite:1.0.0"
    # nginx waits for both replicas' names, not for `depends_on` (podman-compose would re-create it with them).
    assert "depends_on" not in rendered["services"]["reverse_proxy"]
    assert "getent hosts mywebsite mywebsite-2" in rendered["services"]["reverse_proxy"]["entrypoint"][2]
    assert os.access(world.base / "rolling-update.sh", os.X_OK)

    # Readable by nginx's group (the official image's 101), no one else.
    assert stat_mode(world.base / "certs" / "server.key") == 0o640
    assert (world.base / "certs" / "server.key").stat().st_gid == 101
    assert (world.base / "certs" / "server.crt").read_text().startswith("-----BEGIN CERTIFICATE-----")
    # The repository's nginx configuration, mounted as compose.yml mounts it.
    assert (world.base / "nginx" / "unprivileged" / "nginx.conf").is_file()
    proxy = rendered["services"]["reverse_proxy"]
    assert f"{world.base}/nginx/unprivileged/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]

    assert world.current() == "releases/a1b2c3d"
    assert world.releases() == {"a1b2c3d"}
    assert not list((world.data_root / "incoming").iterdir())
    assert subprocess.run([str(world.mywebsite), "data", "check", str(world.data_root / "current")],
                          capture_output=True).returncode == 0
    # The registry got the token; the object storage it redirected to did not.
    assert recap["downloads"] == [
        "/api/v4/projects/42/packages/generic/website-data/a1b2c3d/data.tgz token=yes",
        "storage /api/v4/projects/42/packages/generic/website-data/a1b2c3d/data.tgz?X-Amz-Signature=stand-in "
        "token=no"]
    # Started by the handler, after the data was in place: the replicas one at a time, then the rest.
    assert rolling(recap["calls"]) == ["mywebsite", "reload", "mywebsite-2", "reload"]
    assert any(c.endswith(" up --detach --remove-orphans") for c in recap["calls"]), recap["calls"]

    world.start_server()
    world.wait_for_page("/en/", "Notes from the server room")


def test_rendered_compose_file_is_valid_for_the_compose_tools(world):
    validate_compose(world.base / "docker-compose.yml", world.root)
    # The sealed network, as in the repository's compose.yml (the container suite runs that one).
    rendered = yaml.safe_load((world.base / "docker-compose.yml").read_text())
    assert rendered["networks"]["backend"]["internal"] is True
    assert rendered["services"]["mywebsite"]["networks"] == {"backend": {"ipv4_address": "10.250.250.11",
                                                                         "mac_address": "02:00:0a:fa:fa:0b"}}
    assert rendered["services"]["mywebsite-2"]["networks"] == {"backend": {"ipv4_address": "10.250.250.12",
                                                                           "mac_address": "02:00:0a:fa:fa:0c"}}
    assert rendered["networks"]["backend"]["ipam"]["config"] == [
        {"subnet": "10.250.250.0/24", "ip_range": "10.250.250.128/25"}]
    assert rendered["services"]["reverse_proxy"]["networks"] == ["frontend", "backend"]


def test_second_run_changes_nothing(world):
    result, recap = world.deploy("1.0.0", "a1b2c3d")
    assert result.returncode == 0, result.stdout[-4000:]
    assert recap["changed"] == 0, changed_tasks(result.stdout)
    assert restarts(recap["calls"]) == []
    assert recap["downloads"] == []


def test_logrotate_rotates_the_logs_and_signals_the_server(world):
    # The rule the role installed, run by the real logrotate (forced, as its daily run would past maxsize).
    logs = world.base / "logs"
    (logs / "access.log").write_text('127.0.0.1 - - "GET / HTTP/1.1" 200 10\n' * 100)
    (logs / "error.log").write_text("info listening\n")
    before = world.standin_log.read_text()
    result = subprocess.run(["logrotate", "--force", "--state", str(world.root / "logrotate.state"),
                             str(world.logrotate_file)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    rotated = sorted(p.name for p in logs.iterdir())
    assert not (logs / "access.log").exists() and not (logs / "error.log").exists(), rotated
    assert any(re.fullmatch(r"access\.log-\d{8}-\d+", name) for name in rotated), rotated
    calls = world.standin_log.read_text()[len(before):].splitlines()
    # One signal for both files (sharedscripts), to each replica through the compose tool: they reopen them.
    assert calls == [f"compose --project-name mywebsite --file {world.base}/docker-compose.yml kill -s SIGUSR1 "
                     "mywebsite mywebsite-2"], calls


def test_data_only_update_switches_without_restart(world):
    result, recap = world.deploy("1.0.0", "v1.1.0")
    assert result.returncode == 0, result.stdout[-4000:]
    assert recap["changed"] > 0
    assert restarts(recap["calls"]) == [], "a data update must not restart anything"
    assert world.current() == "releases/v1.1.0"
    assert os.readlink(world.data_root / "previous") == "releases/a1b2c3d"
    assert world.releases() == {"a1b2c3d", "v1.1.0"}
    # The running server follows the symlink switch by itself.
    world.wait_for_page("/en/", "Notes from release B")


def test_broken_package_is_refused_and_the_site_keeps_its_data(world):
    result, recap = world.deploy("1.0.0", "broken")
    assert result.returncode != 0
    assert recap["failed"] == 1
    assert "Website data package broken refused" in " ".join(result.stdout.split())
    assert world.current() == "releases/v1.1.0"
    assert os.readlink(world.data_root / "previous") == "releases/a1b2c3d"
    assert "broken" not in world.releases()
    assert not list((world.data_root / "incoming").iterdir()), "the refused package must be cleaned up"
    assert restarts(recap["calls"]) == []
    world.wait_for_page("/en/", "Notes from release B")


def test_missing_package_is_reported_without_showing_the_token(world):
    result, recap = world.deploy("1.0.0", "v9.9.9")
    assert result.returncode != 0
    # The YAML result format folds long messages: compare with whitespace collapsed.
    output = " ".join(result.stdout.split())
    assert "Website data package v9.9.9 refused" in output
    refusal = output[output.index("Website data package v9.9.9 refused"):][:600]
    assert "/website-data/v9.9.9/data.tgz: " in refusal and "404" in refusal, refusal
    assert TOKEN not in result.stdout + result.stderr
    assert recap["downloads"] == ["/api/v4/projects/42/packages/generic/website-data/v9.9.9/data.tgz token=yes"]
    assert world.current() == "releases/v1.1.0"
    assert not list((world.data_root / "incoming").iterdir())


def test_rollback_to_the_previous_data_needs_no_download(world):
    # The registry no longer has it: the release kept as `previous` is enough.
    shutil.rmtree(world.packages / "a1b2c3d")
    result, recap = world.deploy("1.0.0", "a1b2c3d")
    assert result.returncode == 0, result.stdout[-4000:]
    assert recap["downloads"] == []
    assert world.current() == "releases/a1b2c3d"
    assert os.readlink(world.data_root / "previous") == "releases/v1.1.0"
    assert restarts(recap["calls"]) == []
    world.wait_for_page("/en/", "Notes from the server room")


def test_new_image_tag_recreates_the_stack(world):
    result, recap = world.deploy("1.0.1", "a1b2c3d")
    assert result.returncode == 0, result.stdout[-4000:]
    # One replica at a time, nginx reloaded (re-resolving it) after each, then what else the file changed.
    assert restarts(recap["calls"]) == [
        f"compose --file {world.base}/docker-compose.yml --project-name mywebsite up --detach --no-deps "
        "--force-recreate mywebsite",
        f"compose --file {world.base}/docker-compose.yml --project-name mywebsite up --detach --no-deps "
        "--force-recreate mywebsite-2",
        f"compose --project-name mywebsite --file {world.base}/docker-compose.yml up --detach --remove-orphans"]
    assert rolling(recap["calls"]) == ["mywebsite", "reload", "mywebsite-2", "reload"]
    # Each new container answered its healthcheck before nginx was reloaded.
    calls = recap["calls"]
    for replica in ("mywebsite", "mywebsite-2"):
        recreated = next(i for i, c in enumerate(calls) if c.endswith(f"--force-recreate {replica}"))
        reload = next(i for i, c in enumerate(calls) if i > recreated and c.startswith("container kill --signal HUP"))
        assert any(re.fullmatch(rf"container exec stand-in-container-{replica}-\d+ mywebsite healthcheck", c)
                   for c in calls[recreated:reload]), calls
    assert "mywebsite:1.0.1" in (world.base / "docker-compose.yml").read_text()


def test_moved_tag_recreates_the_stack(world):
    # The registry's 1.0.1 now names another image (as `latest` does after each push to the default branch).
    (world.standin_state / "next-image-id").write_text("sha256:stand-in-2\n")
    result, recap = world.deploy("1.0.1", "a1b2c3d")
    assert result.returncode == 0, result.stdout[-4000:]
    # The image ID check, and the handlers that re-create the replicas and apply the rest.
    assert recap["changed"] == 3, changed_tasks(result.stdout)
    assert any("--force-recreate" in c for c in restarts(recap["calls"]))


def test_a_failed_run_still_leaves_the_new_image_running(world):
    # The lost-handler case: a new tag renders the compose file and pulls a new image, then a later task fails
    # (the data package does not exist). force_handlers still recreates the stack before the play ends.
    (world.standin_state / "next-image-id").write_text("sha256:stand-in-3\n")
    result, recap = world.deploy("1.0.2", "v9.9.9")
    assert result.returncode != 0
    assert "Website data package v9.9.9 refused" in " ".join(result.stdout.split())
    assert any("--force-recreate" in c for c in restarts(recap["calls"])), recap["calls"]
    assert (world.standin_state / "running-image").read_text() == "sha256:stand-in-3\n"
    assert "mywebsite:1.0.2" in (world.base / "docker-compose.yml").read_text()
    # The re-run, with a package that exists, has nothing left to restart.
    result, recap = world.deploy("1.0.2", "v1.1.0")
    assert result.returncode == 0, result.stdout[-4000:]
    assert restarts(recap["calls"]) == [], recap["calls"]


def test_a_stack_left_on_an_older_image_is_recreated_by_the_next_run(world):
    # A run cut short after it rendered the new tag and pulled, before any handler (killed, SSH dropped): the
    # containers still run the old image although nothing on disk changes any more. The re-run compares.
    (world.standin_state / "running-image").write_text("sha256:stand-in-2\n")
    result, recap = world.deploy("1.0.2", "v1.1.0")
    assert result.returncode == 0, result.stdout[-4000:]
    assert recap["changed"] == 3, changed_tasks(result.stdout)  # the comparison, and the two handlers
    assert any("--force-recreate" in c for c in restarts(recap["calls"]))
    assert (world.standin_state / "running-image").read_text() == "sha256:stand-in-3\n"
    # Back to the inputs the next steps start from.
    result, _ = world.deploy("1.0.1", "a1b2c3d")
    assert result.returncode == 0, result.stdout[-4000:]


def test_rollback_returns_to_the_previous_image_and_data_in_one_command(world):
    result, _ = world.deploy("1.0.3", "v1.1.0")
    assert result.returncode == 0, result.stdout[-4000:]
    assert world.record() == {"current": {"image_tag": "1.0.3", "image_digest": "", "website_data_ref": "v1.1.0"},
                              "previous": {"image_tag": "1.0.1", "image_digest": "", "website_data_ref": "a1b2c3d"}}
    world.wait_for_page("/en/", "Notes from release B")
    result, recap = world.rollback()
    assert result.returncode == 0, result.stdout[-4000:]
    assert "mywebsite:1.0.1" in (world.base / "docker-compose.yml").read_text()
    assert any("--force-recreate" in c for c in restarts(recap["calls"]))
    assert world.current() == "releases/a1b2c3d"
    assert recap["downloads"] == [], "the previous data release is still on the host"
    world.wait_for_page("/en/", "Notes from the server room")
    # The record swapped: the same command rolls forward again.
    assert world.record() == {"current": {"image_tag": "1.0.1", "image_digest": "", "website_data_ref": "a1b2c3d"},
                              "previous": {"image_tag": "1.0.3", "image_digest": "", "website_data_ref": "v1.1.0"}}


def test_a_digest_pins_the_image_and_a_malformed_one_is_refused(world):
    digest = "sha256:" + "ab" * 32
    result, recap = world.deploy("1.0.1", "a1b2c3d", application_image_digest=digest)
    assert result.returncode == 0, result.stdout[-4000:]
    compose = yaml.safe_load((world.base / "docker-compose.yml").read_text())
    assert compose["services"]["mywebsite"]["image"] == f"docker.io/mywebsite/mywebsite:1.0.1@{digest}"
    assert world.record()["current"]["image_digest"] == digest
    result, _ = world.deploy("1.0.1", "a1b2c3d", application_image_digest="sha256:nothex")
    assert result.returncode != 0 and "application_image_digest" in result.stdout
    # Back to the inputs the next steps start from.
    result, _ = world.deploy("1.0.1", "a1b2c3d")
    assert result.returncode == 0, result.stdout[-4000:]


def test_stopped_stack_is_started_without_recreating(world):
    (world.standin_state / "running").unlink()
    result, recap = world.deploy("1.0.1", "a1b2c3d")
    assert result.returncode == 0, result.stdout[-4000:]
    assert recap["changed"] == 1
    assert [c.split(" --file ")[1].split(" ", 1)[1] for c in restarts(recap["calls"])] == [
        "up --detach --no-recreate"]


def test_direct_tls_mode_drops_nginx_and_publishes_the_server(world):
    result, recap = world.deploy("1.0.1", "a1b2c3d", application_mode="direct-tls")
    assert result.returncode == 0, result.stdout[-4000:]
    compose = world.base / "docker-compose.yml"
    rendered = yaml.safe_load(compose.read_text())
    assert set(rendered["services"]) == {"mywebsite"}
    assert rolling(recap["calls"]) == ["mywebsite"]  # one replica, no nginx to reload
    server = rendered["services"]["mywebsite"]
    assert server["networks"] == ["frontend"] and set(rendered["networks"]) == {"frontend"}
    assert server["environment"]["SITE_MODE"] == "direct-tls"
    assert server["environment"]["REQUIRE_CERTIFICATE"] == "true"
    assert server["ports"] == ["443:443", "80:80"]
    assert f"{world.base}/certs:/app/certs:ro" in server["volumes"]
    # Only the server's user reads the key now.
    assert stat_mode(world.base / "certs" / "server.key") == 0o600
    assert any("--force-recreate" in c for c in restarts(recap["calls"]))
    validate_compose(compose, world.root)


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


def changed_tasks(output: str) -> str:
    """The tasks that reported a change, for assertion messages."""
    tasks = re.split(r"\n(?=TASK \[|RUNNING HANDLER \[)", output)
    return "\n".join(t.splitlines()[0] for t in tasks if "\nchanged:" in t)


def validate_compose(path: Path, workdir: Path) -> None:
    """The compose file against the Compose Specification's schema, then through each compose tool here."""
    schema = subprocess.run([str(VENV_BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
                             str(path)], capture_output=True, text=True, timeout=120)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    ran = []
    if shutil.which("podman"):
        result = subprocess.run([str(VENV_BIN / "podman-compose"), "-f", str(path), "config"], capture_output=True,
                                text=True, timeout=120, cwd=workdir)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "services:" in result.stdout
        ran.append("podman-compose")
    if shutil.which("docker-compose"):
        result = subprocess.run(["docker-compose", "-f", str(path), "config", "--quiet"], capture_output=True,
                                text=True, timeout=120, cwd=workdir)
        assert result.returncode == 0, result.stdout + result.stderr
        ran.append("docker-compose")
    print(f"compose file validated by the compose-spec schema and: {', '.join(ran) or 'no compose tool here'}")
