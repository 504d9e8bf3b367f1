"""The Kubernetes manifests (deployments/kubernetes): each kustomization rendered, validated offline against
current Kubernetes schemas, and checked for what running many replicas safely needs.

No kustomize binary is needed: the kustomizations use only `resources`, `namespace`, `images` and a
`secretGenerator` without name hash, which render() below applies exactly as kustomize does for them; a
kustomization using anything else fails the test rather than being rendered wrongly.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, VENV_BIN

KUBERNETES = ROOT / "deployments" / "kubernetes"
OVERLAYS = ["behind-proxy", "direct-tls"]
# The newest schema kubernetes-validate bundles, and an older version still in support.
KUBERNETES_VERSIONS = ["1.37.0", "1.33.0"]
SUPPORTED_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "secretGenerator", "generatorOptions"}


def render(directory: Path, placeholder_files: bool = True) -> list[dict]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED_FIELDS
    assert not unknown, f"{directory}: render() does not model {sorted(unknown)}"
    objects: list[dict] = []
    for resource in kustomization.get("resources", []):
        path = directory / resource
        if path.is_dir():
            objects += render(path, placeholder_files)
        else:
            objects += [o for o in yaml.safe_load_all(path.read_text()) if o]
    for generator in kustomization.get("secretGenerator", []):
        assert kustomization.get("generatorOptions", {}).get("disableNameSuffixHash"), "hashed names not modelled"
        data = {}
        for entry in generator["files"]:
            key, _, source = entry.partition("=")
            file = directory / source
            content = file.read_bytes() if file.exists() else f"placeholder for {source}".encode()
            assert file.exists() or placeholder_files, f"{file} is missing"
            data[key] = base64.b64encode(content).decode()
        objects.append({"apiVersion": "v1", "kind": "Secret", "type": generator.get("type", "Opaque"),
                        "metadata": {"name": generator["name"]}, "data": data})
    for obj in objects:
        if "namespace" in kustomization and obj["kind"] != "Namespace":
            obj["metadata"]["namespace"] = kustomization["namespace"]
        for container in containers(obj):
            for image in kustomization.get("images", []):
                name = container["image"].rsplit(":", 1)[0]
                if name == image["name"]:
                    container["image"] = f"{image.get('newName', name)}:{image['newTag']}"
    return objects


def containers(obj: dict) -> list[dict]:
    spec = obj.get("spec", {}).get("template", {}).get("spec", {})
    return spec.get("initContainers", []) + spec.get("containers", [])


def find(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request) -> tuple[str, list[dict]]:
    return request.param, render(KUBERNETES / request.param)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_rendered_manifests_validate_offline(overlay, version, workdir):
    name, objects = overlay
    rendered = workdir / f"{name}.yaml"
    rendered.write_text(yaml.safe_dump_all(objects))
    result = subprocess.run([str(VENV_BIN / "kubernetes-validate"), "--strict", "--kubernetes-version", version,
                             str(rendered)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == len(objects)


def test_strict_validation_catches_a_misspelt_field(workdir):
    deployment = find(render(KUBERNETES / "behind-proxy"), "Deployment")[0]
    deployment["spec"]["replica"] = 3
    rendered = workdir / "broken.yaml"
    rendered.write_text(yaml.safe_dump(deployment))
    result = subprocess.run([str(VENV_BIN / "kubernetes-validate"), "--strict", str(rendered)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0


def test_deployment_scales_out_with_zero_downtime_rollouts(overlay):
    _, objects = overlay
    (deployment,) = find(objects, "Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] >= 2
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert spec["strategy"]["rollingUpdate"]["maxSurge"] >= 1
    (budget,) = find(objects, "PodDisruptionBudget")
    assert budget["spec"]["selector"]["matchLabels"] == spec["selector"]["matchLabels"]
    assert budget["spec"].get("maxUnavailable") == 1 or budget["spec"].get("minAvailable", 0) >= 1
    assert spec["template"]["metadata"]["labels"].items() >= spec["selector"]["matchLabels"].items()


def test_probes_use_healthz(overlay):
    _, objects = overlay
    (deployment,) = find(objects, "Deployment")
    (server,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in server["ports"]}
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert server[probe]["httpGet"]["path"] == "/healthz", probe
        # The plain port: behind-proxy's only port, direct-tls's redirecting port (which passes /healthz through).
        assert ports[server[probe]["httpGet"]["port"]] in (8080, 80), probe


def test_every_container_is_locked_down_and_has_resources(overlay):
    _, objects = overlay
    (deployment,) = find(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False
    for container in containers(deployment):
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["capabilities"]["drop"] == ["ALL"], container["name"]
        assert "add" not in context["capabilities"], container["name"]
        assert context.get("runAsNonRoot", True) is True, container["name"]
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), f"{container['name']} {kind}"


def test_data_package_comes_from_init_containers_and_is_validated(overlay):
    _, objects = overlay
    (deployment,) = find(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (server,) = pod["containers"]
    init = {c["name"]: c for c in pod["initContainers"]}
    assert list(init) == ["fetch-data", "check-data"]
    env = {e["name"]: e for e in init["fetch-data"]["env"]}
    assert "/packages/generic/website-data/$(WEBSITE_DATA_PKG_REF)/data.tgz" in env["WEBSITE_DATA_URL"]["value"]
    assert env["WEBSITE_DATA_TOKEN"]["valueFrom"]["secretKeyRef"]["optional"] is True
    # The check runs the image's own `mywebsite data check`, on the same volume the server reads.
    assert init["check-data"]["image"] == server["image"]
    assert init["check-data"]["args"][:2] == ["data", "check"]
    data_path = next(e["value"] for e in server["env"] if e["name"] == "DATA_PATH")
    mounts = {m["name"]: m for m in server["volumeMounts"]}
    assert mounts["website-data"]["mountPath"] == data_path
    assert mounts["website-data"]["readOnly"] is True
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes["website-data"]


def test_behind_proxy_has_a_cluster_service_and_an_ingress():
    objects = render(KUBERNETES / "behind-proxy")
    (deployment,) = find(objects, "Deployment")
    (server,) = deployment["spec"]["template"]["spec"]["containers"]
    assert {"name": "SITE_MODE", "value": "behind-proxy"} in server["env"]
    (service,) = find(objects, "Service")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    (ingress,) = find(objects, "Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    assert ingress["spec"]["tls"][0]["secretName"]
    assert not find(objects, "Secret"), "the Ingress certificate is not kept in the repository"


def test_direct_tls_has_a_load_balancer_and_the_certificate_secret():
    objects = render(KUBERNETES / "direct-tls")
    (deployment,) = find(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (server,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in server["env"]}
    assert env["SITE_MODE"] == "direct-tls"
    assert env["REQUIRE_CERTIFICATE"] == "true"
    (service,) = find(objects, "Service")
    assert service["spec"]["type"] == "LoadBalancer"
    assert {p["port"] for p in service["spec"]["ports"]} == {443, 80}
    (secret,) = find(objects, "Secret")
    assert secret["type"] == "kubernetes.io/tls"
    assert set(secret["data"]) == {"tls.crt", "tls.key"}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["tls"]["secret"]["secretName"] == secret["metadata"]["name"]
    mount = next(m for m in server["volumeMounts"] if m["name"] == "tls")
    assert env["TLS_CERT"].startswith(mount["mountPath"] + "/")
    assert env["TLS_KEY"].startswith(mount["mountPath"] + "/")
    assert not find(objects, "Ingress")
    # Binding 443 as a non-root user: a namespaced, "safe" sysctl, not a capability.
    assert {"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"} in pod["securityContext"]["sysctls"]
    assert not (KUBERNETES / "direct-tls" / "tls").exists() or (KUBERNETES / "direct-tls" / ".gitignore").exists()


def test_namespace_enforces_the_restricted_pod_security_standard():
    (namespace,) = find(render(KUBERNETES / "base"), "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
