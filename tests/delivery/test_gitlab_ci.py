"""The GitLab pipeline, evaluated offline: which jobs run for each kind of pipeline, and what they push.

GitLab itself is not reachable here; pipeline.py models the parts of its rules engine the file uses
(`!reference`, `extends`, workflow and job `rules` with `if`/`changes`/`when`/`variables`).
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

import pipeline
from conftest import ROOT

CI_FILE = ROOT / ".gitlab-ci.yml"

PROJECT = {
    "CI_DEFAULT_BRANCH": "main",
    "CI_PROJECT_DIR": "/builds/camille/mywebsite",
    "CI_PROJECT_URL": "https://gitlab.example.com/camille/mywebsite",
    "CI_PROJECT_ID": "42",
    "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
    "CI_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
    "CI_COMMIT_SHORT_SHA": "01234567",
    # Masked project variables.
    "DOCKERHUB_REGISTRY": "docker.io",
    "DOCKERHUB_USER": "camille",
    "DOCKERHUB_PASSWORD": "not-a-real-password",
}


def scenario(name: str, changed: list[str] | None = None, **variables: str) -> pipeline.Scenario:
    return pipeline.Scenario(name, {**PROJECT, **variables}, changed)


def push(branch: str) -> dict[str, str]:
    return {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": branch, "CI_COMMIT_REF_NAME": branch}


def tag(name: str, protected: bool = True) -> dict[str, str]:
    return {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": name, "CI_COMMIT_REF_NAME": name,
            "CI_COMMIT_REF_PROTECTED": "true" if protected else "false"}


MERGE_REQUEST = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "7",
                 "CI_COMMIT_REF_NAME": "feature/search", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}
DEPLOY_MODE = {"CI_PIPELINE_SOURCE": "web", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main",
               "CI_COMMIT_REF_PROTECTED": "true",
               "DEPLOY_MODE": "Y", "IMAGE_VERSION": "v1.2.2", "WEBSITE_DATA_PKG_REF": "v1.2.2"}
CODE = ["Sources/App/Server.swift"]
CONTENT = ["content/articles/epoll-event-loop/en.md", "Sources/App/Server.swift"]
BUILD_AND_TEST = {"build": "on_success", "test": "on_success", "test:privileged": "on_success",
                  "image:compile-check": "on_success"}

# scenario → {job: when}
EXPECTED = [
    (scenario("push to the default branch, code only", CODE, **push("main")),
     {**BUILD_AND_TEST, "package": "on_success", "publish:image:latest": "on_success", "deploy:int": "manual"}),
    (scenario("push to the default branch, content changed", CONTENT, **push("main")),
     {**BUILD_AND_TEST, "package": "on_success", "package:data": "on_success", "publish:image:latest": "on_success",
      "publish:data": "on_success", "deploy:int": "manual"}),
    (scenario("release tag v1.2.3", None, **tag("v1.2.3")),
     {**BUILD_AND_TEST, "package": "on_success", "package:data": "on_success",
      "publish:image:release": "on_success", "publish:data": "on_success", "deploy:int": "manual",
      "deploy:prod": "manual"}),
    (scenario("release tag v1.2.3 on an unprotected tag", None, **tag("v1.2.3", protected=False)),
     {**BUILD_AND_TEST, "package": "on_success", "package:data": "on_success",
      "publish:image:release": "on_success", "publish:data": "on_success", "deploy:int": "manual"}),
    (scenario("DEPLOY_MODE=Y on an unprotected branch", None,
              **{**DEPLOY_MODE, "CI_COMMIT_BRANCH": "fix", "CI_COMMIT_REF_NAME": "fix",
                 "CI_COMMIT_REF_PROTECTED": "false"}), {"deploy:int": "manual"}),
    (scenario("release-candidate tag v1.2.3-rc1", None, **tag("v1.2.3-rc1")),
     {**BUILD_AND_TEST, "package": "on_success", "package:data": "on_success",
      "publish:image:release-candidate": "on_success", "publish:data": "on_success", "deploy:int": "manual"}),
    (scenario("merge request, code only", CODE, **MERGE_REQUEST), BUILD_AND_TEST),
    (scenario("merge request, content changed", CONTENT, **MERGE_REQUEST),
     {**BUILD_AND_TEST, "package:data": "on_success"}),
    (scenario("push to a feature branch", CONTENT, **push("feature/search")), BUILD_AND_TEST),
    (scenario("other tag", None, **tag("nightly-2026-11-30")), BUILD_AND_TEST),
    (scenario("tag that only looks like a release", None, **tag("v1.2")), BUILD_AND_TEST),
    (scenario("DEPLOY_MODE=Y", None, **DEPLOY_MODE), {"deploy:int": "manual", "deploy:prod": "manual"}),
    (scenario("DEPLOY_MODE=Y on a tag", None, **{**tag("v1.2.3"), "CI_PIPELINE_SOURCE": "api", "DEPLOY_MODE": "Y"}),
     {"deploy:int": "manual", "deploy:prod": "manual"}),
]


@pytest.fixture(scope="module")
def ci() -> dict:
    return pipeline.load(CI_FILE)


@pytest.mark.parametrize(("case", "expected"), EXPECTED, ids=[case.name for case, _ in EXPECTED])
def test_jobs_of_each_pipeline(ci, case, expected):
    planned = pipeline.plan(ci, case)
    assert planned is not None, f"{case.name}: workflow rules create no pipeline"
    assert {name: job.when for name, job in planned.items()} == expected


SHA_TAG = "sha-0123456789abcdef0123456789abcdef01234567"  # immutable, next to the moving or release tag
PUBLISHED_TAGS = [
    ("push to the default branch, code only", "publish:image:latest", f"latest {SHA_TAG}"),
    ("release tag v1.2.3", "publish:image:release", f"v1.2.3 {SHA_TAG}"),
    ("release-candidate tag v1.2.3-rc1", "publish:image:release-candidate", f"v1.2.3-rc1 {SHA_TAG}"),
]


@pytest.mark.parametrize(("case_name", "job", "image_tag"), PUBLISHED_TAGS)
def test_image_tag_each_publish_job_pushes(ci, case_name, job, image_tag):
    case = next(c for c, _ in EXPECTED if c.name == case_name)
    variables = pipeline.plan(ci, case)[job].variables
    assert variables["IMAGE_TAGS"] == image_tag
    assert variables["IMAGE_NAME"] == "docker.io/camille/mywebsite"
    assert variables["KANIKO_CACHE_REPO"] == "docker.io/camille/mywebsite-cache"


def test_branch_with_open_merge_request_runs_only_the_merge_request_pipeline(ci):
    case = scenario("push with an open MR", CODE, **push("feature/search"),
                    CI_OPEN_MERGE_REQUESTS="camille/mywebsite!7")
    assert pipeline.plan(ci, case) is None


def test_every_need_and_dependency_is_in_the_pipeline_and_earlier(ci):
    stages = ci["stages"]
    for case, _ in EXPECTED:
        planned = pipeline.plan(ci, case)
        for name, job in planned.items():
            definition = pipeline.jobs(ci)[name]
            assert job.stage in stages, f"{name}: unknown stage {job.stage}"
            for need in definition.get("needs", []):
                need = need if isinstance(need, dict) else {"job": need}
                if need["job"] not in planned:
                    assert need.get("optional"), f"{case.name}: {name} needs {need['job']}, which does not run"
                    continue
                assert stages.index(planned[need["job"]].stage) < stages.index(job.stage)
            for dependency in definition.get("dependencies", []):
                assert dependency in planned, f"{case.name}: {name} depends on {dependency}, which does not run"
                assert stages.index(planned[dependency].stage) < stages.index(job.stage)


def test_deploy_jobs_are_always_manual_and_pass_image_and_data_ref(ci):
    for case, _ in EXPECTED:
        for name, job in pipeline.plan(ci, case).items():
            if job.stage == "deploy":
                assert job.when == "manual", f"{case.name}: {name} would deploy without a click"
    deploy_mode = pipeline.plan(ci, next(c for c, _ in EXPECTED if c.name == "DEPLOY_MODE=Y"))
    assert deploy_mode["deploy:prod"].variables["IMAGE_VERSION"] == "v1.2.2"
    assert deploy_mode["deploy:prod"].variables["WEBSITE_DATA_PKG_REF"] == "v1.2.2"
    for name in ("deploy:int", "deploy:prod"):
        assert pipeline.jobs(ci)[name]["script"] == ['bash ci/deploy.sh "$DEPLOY_ENVIRONMENT"']


def test_publish_jobs_use_kaniko_or_buildah_and_a_script_file(ci):
    variables = ci["variables"]
    assert variables["IMAGE_BUILDER"]["value"] == "kaniko"
    assert variables["IMAGE_BUILDER"]["options"] == ["kaniko", "buildah"]
    default = variables["IMAGE_BUILDER_IMAGE"]
    assert default.startswith("gcr.io/kaniko-project/executor:")
    assert default.endswith("-debug"), "the debug image has the shell GitLab's runner needs"
    for name in ("publish:image:latest", "publish:image:release", "publish:image:release-candidate"):
        job = pipeline.jobs(ci)[name]
        assert job["image"]["name"] == "${IMAGE_BUILDER_IMAGE}"
        assert job["image"]["entrypoint"] == [""]
        assert job["script"] == ["sh ci/publish-image.sh"]
        assert job["artifacts"]["paths"] == ["image-digest.txt"]
        assert job["variables"]["IMAGE_DIGEST_FILE"] == "${CI_PROJECT_DIR}/image-digest.txt"
        assert "services" not in job, "no Docker-in-Docker"


def test_rules_are_reusable_reference_blocks():
    raw = yaml.load(CI_FILE.read_text(), Loader=pipeline.PipelineLoader)
    for name, job in raw.items():
        if name.startswith(".") or not isinstance(job, dict) or "rules" not in job or name == "workflow":
            continue
        for rule in job["rules"]:
            assert isinstance(rule, pipeline.Reference) and rule[0] == ".rules", f"{name}: inline rule {rule}"
        if name.startswith("publish:"):
            assert job["rules"][0] == [".rules", "never-in-deploy-mode"], f"{name} must never run in DEPLOY_MODE"


def test_the_test_job_runs_on_a_stock_docker_executor_and_the_privileged_rest_has_its_own_job(ci):
    jobs = pipeline.jobs(ci)
    assert jobs["test"]["script"] == ["scripts/test.sh --unprivileged"]
    assert "tags" not in jobs["test"], "any shared Docker runner takes the test job"
    assert jobs["test:privileged"]["script"] == ["scripts/test.sh --privileged-only"]
    assert jobs["test:privileged"]["tags"] == ["privileged"]
    # What each mode runs, asked of the script itself: together they are the README's `scripts/test.sh`.
    def steps(*mode: str) -> list[str]:
        result = subprocess.run([str(ROOT / "scripts/test.sh"), "--list", *mode], capture_output=True, text=True,
                                timeout=30, check=True)
        return result.stdout.split()
    unprivileged, privileged, everything = steps("--unprivileged"), steps("--privileged-only"), steps()
    assert "containers" not in unprivileged and "privileged" not in unprivileged
    assert set(unprivileged) | set(privileged) == set(everything)
    # The root-only tools are reached from those two steps only.
    script = (ROOT / "scripts/test.sh").read_text()
    for tool in ("tests/container/run.sh", "--filter PrivilegedPortTests"):
        block = script[:script.index(tool)].rsplit("if runs ", 1)[1].split(";", 1)[0]
        assert block in ("containers", "privileged"), f"{tool} runs in step {block}"


def test_swift_jobs_keep_the_package_cache(ci):
    for name in ("build", "test"):
        cache = pipeline.jobs(ci)[name]["cache"]
        assert cache["key"]["files"] == ["Package.swift"]
        assert ".cache/swiftpm/" in cache["paths"]
    assert "--cache-path" in " ".join(pipeline.jobs(ci)["build"]["script"])


@pytest.mark.parametrize(("expression", "variables", "expected"), [
    ('$A == "x"', {"A": "x"}, True),
    ('$A == "x"', {}, False),
    ("$A", {"A": ""}, False),
    ("$A && $B || $C", {"C": "1"}, True),
    ("$A && ($B || $C)", {"C": "1"}, False),
    ("$T =~ /^v[0-9]+$/", {"T": "v12"}, True),
    ("$T !~ /^v[0-9]+$/", {"T": "v12"}, False),
    ("$A == $B", {"A": "main", "B": "main"}, True),
    ("$A != null", {"A": "x"}, True),
])
def test_rule_expression_evaluator(expression, variables, expected):
    assert pipeline.evaluate(expression, variables) is expected
