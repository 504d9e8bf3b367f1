"""The pipeline's script files, run here with stand-ins for the tools they drive (Kaniko, curl, Ansible).

The publish job's environment is the one the pipeline model (pipeline.py) computes for that job, so these
tests check what the real job would run, from the YAML to the executor's arguments.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tarfile

import pytest

import pipeline
from conftest import ROOT, STAND_INS
from test_gitlab_ci import CI_FILE, EXPECTED, SHA_TAG

PASSWORD = 'p@ss:w"rd$1\\ with spaces'
SHELLS = ["sh"] + (["busybox"] if shutil.which("busybox") else [])


def publish_env(case_name: str, job: str, record, project_dir, **overrides: str) -> dict[str, str]:
    case = next(c for c, _ in EXPECTED if c.name == case_name)
    variables = pipeline.plan(pipeline.load(CI_FILE), case)[job].variables
    variables.update({"CI_PROJECT_DIR": str(project_dir), "DOCKERHUB_PASSWORD": PASSWORD})
    variables["IMAGE_DIGEST_FILE"] = str(project_dir / "image-digest.txt")
    variables.update(overrides)
    return {"PATH": os.environ["PATH"], "STANDIN_RECORD": str(record),
            "KANIKO_EXECUTOR": str(STAND_INS / "kaniko-executor"),
            "KANIKO_DOCKER_CONFIG": str(record / "kaniko-docker"), **variables}


def run_publish(env: dict[str, str], shell: str = "sh") -> subprocess.CompletedProcess:
    argv = [shell, "sh"] if shell == "busybox" else [shell]
    # Through the jobs' own entry point, which picks Kaniko by default.
    return subprocess.run(argv + [str(ROOT / "ci" / "publish-image.sh")], env=env, cwd=env["CI_PROJECT_DIR"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def recorded_args(record) -> list[str]:
    return (record / "args").read_text().splitlines()


def option_values(args: list[str], option: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == option]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(("case_name", "job", "tag"), [
    ("push to the default branch, code only", "publish:image:latest", "latest"),
    ("release tag v1.2.3", "publish:image:release", "v1.2.3"),
    ("release-candidate tag v1.2.3-rc1", "publish:image:release-candidate", "v1.2.3-rc1"),
])
def test_kaniko_publish_pushes_the_job_tag_with_credentials(workdir, shell, case_name, job, tag):
    record, project = workdir / "record", workdir / "project"
    record.mkdir()
    project.mkdir()
    result = run_publish(publish_env(case_name, job, record, project), shell)
    assert result.returncode == 0, result.stderr
    args = recorded_args(record)

    # The job's tag, and the commit's immutable one.
    assert option_values(args, "--destination") == [
        f"docker.io/camille/mywebsite:{tag}",
        "docker.io/camille/mywebsite:sha-0123456789abcdef0123456789abcdef01234567"]
    assert option_values(args, "--context") == [f"dir://{project}"]
    assert option_values(args, "--dockerfile") == [f"{project}/Dockerfile"]
    assert option_values(args, "--target") == ["runtime-prebuilt"]
    assert option_values(args, "--cache-repo") == ["docker.io/camille/mywebsite-cache"]
    assert "--cache=true" in args
    # Only the stages runtime-prebuilt needs: never the Swift compile of the `runtime` target.
    assert "--skip-unused-stages" in args
    assert option_values(args, "--digest-file") == [f"{project}/image-digest.txt"]
    version = tag if tag != "latest" else "01234567"
    assert option_values(args, "--build-arg") == [
        "SWIFT_VERSION=6.3", f"VERSION={version}", "REVISION=0123456789abcdef0123456789abcdef01234567",
        "SOURCE=https://gitlab.example.com/camille/mywebsite",
    ]

    config = json.loads((record / "config.json").read_text())
    assert list(config["auths"]) == ["https://index.docker.io/v1/"]
    auth = base64.b64decode(config["auths"]["https://index.docker.io/v1/"]["auth"]).decode()
    assert auth == f"camille:{PASSWORD}"
    assert stat.S_IMODE((record / "kaniko-docker" / "config.json").stat().st_mode) == 0o600
    # The digest the executor wrote is the job's artifact.
    assert (project / "image-digest.txt").read_text().startswith("sha256:")
    assert PASSWORD not in result.stdout + result.stderr


def test_kaniko_publish_passes_build_arguments_through_and_uses_a_private_registry(workdir):
    record, project = workdir / "record", workdir / "project"
    record.mkdir()
    project.mkdir()
    env = publish_env("release tag v1.2.3", "publish:image:release", record, project,
                      DOCKERHUB_REGISTRY="registry.example.com:5000", IMAGE_NAME="", KANIKO_CACHE_REPO="",
                      USER_ID="1001", GROUP_ID="1002", IMAGE_TAGS="v1.2.3 stable")
    result = run_publish(env)
    assert result.returncode == 0, result.stderr
    args = recorded_args(record)
    assert option_values(args, "--destination") == [
        "registry.example.com:5000/camille/mywebsite:v1.2.3", "registry.example.com:5000/camille/mywebsite:stable"]
    assert option_values(args, "--cache-repo") == ["registry.example.com:5000/camille/mywebsite-cache"]
    assert "USER_ID=1001" in option_values(args, "--build-arg")
    assert "GROUP_ID=1002" in option_values(args, "--build-arg")
    config = json.loads((record / "config.json").read_text())
    assert base64.b64decode(config["auths"]["registry.example.com:5000"]["auth"]).decode() == f"camille:{PASSWORD}"


@pytest.mark.parametrize(("override", "message"), [
    ({"DOCKERHUB_PASSWORD": ""}, "DOCKERHUB_PASSWORD is not set"),
    ({"DEPLOY_MODE": "Y"}, "only deploy"),
    ({"IMAGE_TAGS": "bad/tag"}, "invalid image tag"),
    ({"DOCKERHUB_REGISTRY": 'evil"}}'}, "must be a host name"),
])
def test_kaniko_publish_refuses_before_running_the_executor(workdir, override, message):
    record, project = workdir / "record", workdir / "project"
    record.mkdir()
    project.mkdir()
    result = run_publish(publish_env("push to the default branch, code only", "publish:image:latest", record,
                                     project, **override))
    assert result.returncode != 0
    assert message in result.stderr
    assert not (record / "args").exists()


def test_publish_data_uploads_to_the_url_the_role_downloads_from(workdir):
    record = workdir / "record"
    record.mkdir()
    (workdir / "data.tgz").write_bytes(b"archive")
    env = {"PATH": os.environ["PATH"], "STANDIN_RECORD": str(record), "CURL": str(STAND_INS / "recorder"),
           "CI_API_V4_URL": "https://gitlab.example.com/api/v4", "CI_PROJECT_ID": "42",
           "CI_JOB_TOKEN": "job-token-value", "CI_COMMIT_TAG": "v1.2.3", "CI_COMMIT_SHORT_SHA": "01234567"}
    result = subprocess.run(["sh", str(ROOT / "ci" / "publish-data.sh"), "data.tgz"], env=env, cwd=workdir,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    args = (record / "args").read_text().splitlines()
    url = "https://gitlab.example.com/api/v4/projects/42/packages/generic/website-data/v1.2.3/data.tgz"
    assert args[-1] == url
    assert option_values(args, "--upload-file") == ["data.tgz"]
    assert option_values(args, "--header") == ["@-"]
    assert (record / "stdin").read_text() == "JOB-TOKEN: job-token-value\n"
    assert "job-token-value" not in " ".join(args)
    assert (workdir / "website-data.env").read_text() == "WEBSITE_DATA_PKG_REF=v1.2.3\n"
    defaults = (ROOT / "deployments/ansible/roles/application/defaults/main.yml").read_text()
    assert "/packages/generic/website-data/{{ application_website_data_ref }}/data.tgz" in defaults


@pytest.mark.parametrize(("environment", "variables", "image", "data_ref"), [
    ("int", {"CI_COMMIT_BRANCH": "main"}, "latest", ""),
    ("prod", {"CI_COMMIT_TAG": "v1.2.3", "WEBSITE_DATA_PKG_REF": "v1.2.3"}, "v1.2.3", "v1.2.3"),
    ("prod", {"DEPLOY_MODE": "Y", "IMAGE_VERSION": "v1.2.2", "WEBSITE_DATA_PKG_REF": "0badc0de"}, "v1.2.2",
     "0badc0de"),
])
def test_deploy_script_runs_the_playbook_with_image_and_data_ref(workdir, environment, variables, image,
                                                                 data_ref):
    record = workdir / "record"
    record.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(workdir), "STANDIN_RECORD": str(record),
           "ANSIBLE_PLAYBOOK": str(STAND_INS / "recorder"), "DEPLOY_SKIP_INSTALL": "1",
           "STANDIN_ENV": "WEBSITE_DATA_TOKEN WEBSITE_DATA_TOKEN_HEADER WEBSITE_DATA_API_URL WEBSITE_DATA_PROJECT_ID",
           "CI_JOB_TOKEN": "job-token-value", "WEBSITE_DATA_DEPLOY_TOKEN": "deploy-token-value",
           "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
           "CI_PROJECT_ID": "42", "IMAGE_NAME": "docker.io/camille/mywebsite", **variables}
    result = subprocess.run(["bash", str(ROOT / "ci" / "deploy.sh"), environment], env=env, capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert (record / "args").read_text().splitlines() == [
        "-i", f"inventories/{environment}", "deploy.yml", "-e", f"application_image_tag={image}",
        "-e", f"application_website_data_ref={data_ref}", "-e",
        "application_image_repository=docker.io/camille/mywebsite"]
    assert (record / "cwd").read_text().strip() == str(ROOT / "deployments" / "ansible")
    # The hosts get the read-only deploy token, never the job's.
    environment_seen = (record / "env").read_text().splitlines()
    assert "WEBSITE_DATA_TOKEN=deploy-token-value" in environment_seen
    assert "WEBSITE_DATA_TOKEN_HEADER=DEPLOY-TOKEN" in environment_seen
    assert "job-token-value" not in (record / "env").read_text() + (record / "args").read_text()
    assert "deploy-token-value" not in (record / "args").read_text()


@pytest.mark.parametrize(("content", "status"), [("sha256:" + "0f" * 32 + "\n", 0), ("latest\n", 2)])
def test_deploy_script_pins_the_digest_the_pipeline_pushed(workdir, content, status):
    record = workdir / "record"
    record.mkdir()
    (workdir / "image-digest.txt").write_text(content)
    env = {"PATH": os.environ["PATH"], "HOME": str(workdir), "STANDIN_RECORD": str(record),
           "ANSIBLE_PLAYBOOK": str(STAND_INS / "recorder"), "DEPLOY_SKIP_INSTALL": "1",
           "CI_PROJECT_DIR": str(workdir), "CI_COMMIT_BRANCH": "main"}
    result = subprocess.run(["bash", str(ROOT / "ci" / "deploy.sh"), "int"], env=env, capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == status, result.stderr
    if status == 0:
        assert f"application_image_digest={content.strip()}" in (record / "args").read_text().splitlines()
    else:
        assert "not a digest" in result.stderr and not (record / "args").exists()


@pytest.mark.parametrize("shell", SHELLS)
def test_buildah_publish_builds_once_and_pushes_each_tag(workdir, shell):
    record, project, auth_dir = workdir / "record", workdir / "project", workdir / "tmp"
    record.mkdir()
    project.mkdir()
    env = publish_env("release tag v1.2.3", "publish:image:release", record, project, IMAGE_BUILDER="buildah",
                      BUILDAH=str(STAND_INS / "buildah"), BUILDAH_AUTH_DIR=str(auth_dir))
    argv = [shell, "sh"] if shell == "busybox" else [shell]
    result = subprocess.run(argv + [str(ROOT / "ci" / "publish-image.sh")], env=env, cwd=project,
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    calls = [c.strip("\n").split("\n") for c in (record / "buildah-calls").read_text().split("--\n") if c]
    build, *pushes = calls
    assert build[:2] == ["--storage-driver=vfs", "build"]
    assert option_values(build, "--target") == ["runtime-prebuilt"]
    image = "docker.io/camille/mywebsite"
    assert option_values(build, "--tag") == [f"{image}:v1.2.3", f"{image}:{SHA_TAG}"]
    assert "VERSION=v1.2.3" in option_values(build, "--build-arg")
    assert build[-1] == str(project)
    assert [p[-1] for p in pushes] == [f"docker://{image}:v1.2.3", f"docker://{image}:{SHA_TAG}"]
    # The credentials: outside the context, 0600, removed afterwards; the digest for the deploy jobs.
    assert json.loads((record / "auth.json").read_text())["auths"]["docker.io"]["auth"] == base64.b64encode(
        f"camille:{PASSWORD}".encode()).decode()
    assert (record / "auth.mode").read_text().strip() == "600"
    assert not list(auth_dir.iterdir()) and not list(project.glob("*auth*"))
    assert (project / "image-digest.txt").read_text().startswith("sha256:")


def test_compile_check_builds_the_source_target_and_pushes_nothing(workdir):
    record, project = workdir / "record", workdir / "project"
    record.mkdir()
    project.mkdir()
    env = {"PATH": os.environ["PATH"], "STANDIN_RECORD": str(record), "CI_PROJECT_DIR": str(project),
           "KANIKO_EXECUTOR": str(STAND_INS / "kaniko-executor"), "KANIKO_DOCKER_CONFIG": str(record / "none"),
           "SWIFT_VERSION": "6.3", "CI_COMMIT_SHA": "0" * 40}
    job = pipeline.jobs(pipeline.load(CI_FILE))["image:compile-check"]
    assert job["script"] == ["sh ci/kaniko-compile-check.sh"] and job["image"]["name"].endswith("-debug")
    result = subprocess.run(["sh", str(ROOT / "ci" / "kaniko-compile-check.sh")], env=env, cwd=project,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    args = recorded_args(record)
    assert option_values(args, "--target") == ["runtime"]
    assert "--no-push" in args and "--cache=false" in args
    assert option_values(args, "--build-arg") == ["SWIFT_VERSION=6.3", f"REVISION={'0' * 40}"]
    assert not (record / "config.json").exists(), "no credentials: nothing is pushed"


def test_publish_image_refuses_an_unknown_builder(workdir):
    result = subprocess.run(["sh", str(ROOT / "ci" / "publish-image.sh")], env={"PATH": os.environ["PATH"],
                            "IMAGE_BUILDER": "docker"}, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "kaniko or buildah" in result.stderr


def test_deploy_script_refuses_a_data_package_without_a_deploy_token(workdir):
    env = {"PATH": os.environ["PATH"], "HOME": str(workdir), "ANSIBLE_PLAYBOOK": str(STAND_INS / "recorder"),
           "STANDIN_RECORD": str(workdir), "DEPLOY_SKIP_INSTALL": "1", "CI_JOB_TOKEN": "job-token-value",
           "WEBSITE_DATA_PKG_REF": "v1.2.3", "CI_COMMIT_TAG": "v1.2.3"}
    result = subprocess.run(["bash", str(ROOT / "ci" / "deploy.sh"), "prod"], env=env, capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert "WEBSITE_DATA_DEPLOY_TOKEN is not set" in result.stderr and "read_package_registry" in result.stderr
    assert not (workdir / "args").exists(), "the playbook must not run"


def test_package_script_makes_a_reproducible_package(workdir):
    binary = workdir / "mywebsite"
    binary.write_text("#!/bin/sh\necho fake server\n")
    binary.chmod(0o755)
    digests = []
    for name in ("one.tgz", "two.tgz"):
        result = subprocess.run(["sh", str(ROOT / "ci" / "package.sh"), str(binary), str(workdir / name)],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        digests.append(hashlib.sha256((workdir / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    with tarfile.open(workdir / "one.tgz") as archive:
        members = {m.name: m for m in archive.getmembers()}
    assert members["bin/mywebsite"].mode & 0o111
    assert "web/static/css/site.css" in members
    assert "web/templates/layout.mustache" in members
    assert all(m.uid == 0 and m.gid == 0 for m in members.values())
