"""The Kubernetes manifests (deployments/kubernetes): each kustomization rendered, validated offline against
current Kubernetes schemas, and checked for what running many replicas safely needs.

No kustomize binary is needed: the kustomizations use only `resources`, `namespace`, `images` and a
`secretGenerator` without name hash, which render() below applies exactly as kustomize does for them; a
kustomization using anything else fails the test rather than being rendered wrongly.
"""

from __future__ import annotations

import base64
import http.server
import os
import subprocess
import threading
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


def test_the_fetch_script_downloads_through_a_redirect_without_forwarding_the_token(overlay, tmp_path):
    """The init container's own script, run by sh and curl here: a registry answering with a redirect to
    another host (as GitLab does, to object storage) gets the token; the storage host never does."""
    _, objects = overlay
    (deployment,) = find(objects, "Deployment")
    fetch = next(c for c in deployment["spec"]["template"]["spec"]["initContainers"] if c["name"] == "fetch-data")
    assert fetch["command"][:2] == ["sh", "-ec"]
    data = tmp_path / "data"
    data.mkdir()
    script = fetch["command"][2].replace("/app/data", str(data))  # the emptyDir's mount point, here
    package = tmp_path / "package"
    package.mkdir()
    (package / "site.db").write_bytes(b"database")
    archive = tmp_path / "data.tgz"
    subprocess.run(["tar", "-czf", archive, "-C", package, "site.db"], check=True)
    seen: dict[str, str | None] = {}

    class Storage(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen["storage"] = self.headers.get("PRIVATE-TOKEN")
            body = archive.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    storage = http.server.HTTPServer(("127.0.0.1", 0), Storage)

    class Registry(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen["registry"] = self.headers.get("PRIVATE-TOKEN")
            self.send_response(302)
            # Another host name for the same machine: "localhost" is not the registry's 127.0.0.1.
            self.send_header("Location", f"http://localhost:{storage.server_port}/bucket/data.tgz?signature=x")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    registry = http.server.HTTPServer(("127.0.0.1", 0), Registry)
    for server in (storage, registry):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {"PATH": os.environ["PATH"], "WEBSITE_DATA_TOKEN": "registry-secret",
               "WEBSITE_DATA_URL": f"http://127.0.0.1:{registry.server_port}/api/v4/projects/42/packages/generic/"
                                   "website-data/v1/data.tgz"}
        result = subprocess.run(["sh", "-ec", script], env=env, capture_output=True, text=True, timeout=60)
    finally:
        registry.shutdown()
        storage.shutdown()
    assert result.returncode == 0, result.stdout + result.stderr
    assert seen == {"registry": "registry-secret", "storage": None}
    assert (data / "site.db").read_bytes() == b"database"
    assert not (data / ".data.tgz").exists()


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


def test_a_network_policy_seals_the_pods(overlay):
    name, objects = overlay
    (policy,) = find(objects, "NetworkPolicy")
    (deployment,) = find(objects, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    spec = policy["spec"]
    assert spec["podSelector"]["matchLabels"].items() <= labels.items(), "the policy must select the site's pods"
    assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"]
    (server,) = deployment["spec"]["template"]["spec"]["containers"]
    declared = {port["name"] for port in server["ports"]}
    allowed = [port["port"] for rule in spec["ingress"] for port in rule["ports"]]
    assert set(allowed) <= declared, f"ingress names ports the container does not declare: {allowed}"
    if name == "behind-proxy":
        # Only the Ingress controller's namespace, only the site's port: the compose stack's internal network.
        assert spec["ingress"] == [{"from": [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": "ingress-nginx"}}}], "ports": [{"port": "http", "protocol": "TCP"}]}]
    else:
        # Facing the Internet through the LoadBalancer: any source, the two ports only.
        assert all("from" not in rule for rule in spec["ingress"])
        assert sorted(allowed) == ["http", "https"]
    # Out: the cluster DNS, and HTTPS outside the cluster's private ranges; nothing else.
    dns, https = spec["egress"]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert dns["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
    assert https["ports"] == [{"port": 443, "protocol": "TCP"}]
    block = https["to"][0]["ipBlock"]
    assert block["cidr"] == "0.0.0.0/0" and set(block["except"]) == {"10.0.0.0/8", "172.16.0.0/12",
                                                                      "192.168.0.0/16"}
