"""Checkov checks for Compose files (checkov has no Compose framework of its own).

Loaded with `checkov --framework yaml --external-checks-dir tests/container/checkov`; each check runs once per
service (the entries of `services:`). Suppress one in the Compose file with a comment
`# checkov:skip=CKV_MYW_N: reason`, the reason saying why. tests/container/run.sh runs them on compose.yml and
on compose.yml merged with compose.direct-tls.yml.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.yaml_doc.base_yaml_check import BaseYamlCheck
from checkov.yaml_doc.enums import BlockType

SOCKETS = ("docker.sock", "podman.sock", "containerd.sock", "crio.sock")


def _strings(value: Any) -> list[str]:
    """A Compose list (or a single string) as strings; checkov's line markers dropped."""
    if value is None:
        return []
    if isinstance(value, (str, int, float, bool)):
        return [str(value)]
    if isinstance(value, dict):
        return [f"{k}={v}" for k, v in value.items() if not str(k).startswith("__")]
    return [str(v) for v in value if not (isinstance(v, str) and v.startswith("__"))]


class ServiceCheck(BaseYamlCheck):
    """A check of one Compose service."""

    def __init__(self, name: str, id: str) -> None:
        super().__init__(
            name=name,
            id=id,
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_entities=["services"],
            block_type=BlockType.ARRAY,
        )

    def scan_entity_conf(self, conf: dict[str, Any], entity_type: str) -> CheckResult:
        if not isinstance(conf, dict):
            return CheckResult.UNKNOWN
        return CheckResult.PASSED if self.passes(conf) else CheckResult.FAILED

    def passes(self, service: dict[str, Any]) -> bool:
        raise NotImplementedError


class ReadOnlyRootFilesystem(ServiceCheck):
    def __init__(self) -> None:
        super().__init__("Service runs with a read-only root filesystem (read_only: true)", "CKV_MYW_1")

    def passes(self, service: dict[str, Any]) -> bool:
        return service.get("read_only") is True


class AllCapabilitiesDropped(ServiceCheck):
    def __init__(self) -> None:
        super().__init__("Service drops every capability (cap_drop: [ALL]) and adds none back", "CKV_MYW_2")

    def passes(self, service: dict[str, Any]) -> bool:
        return "ALL" in _strings(service.get("cap_drop")) and not _strings(service.get("cap_add"))


class NoNewPrivileges(ServiceCheck):
    def __init__(self) -> None:
        super().__init__("Service sets security_opt no-new-privileges:true", "CKV_MYW_3")

    def passes(self, service: dict[str, Any]) -> bool:
        return any(o.replace("=", ":") in ("no-new-privileges:true", "no-new-privileges")
                   for o in _strings(service.get("security_opt")))


class NoHostNamespaces(ServiceCheck):
    def __init__(self) -> None:
        super().__init__("Service is not privileged and shares no namespace with the host", "CKV_MYW_4")

    def passes(self, service: dict[str, Any]) -> bool:
        if service.get("privileged") is True:
            return False
        return all(service.get(key) != "host" for key in ("network_mode", "pid", "ipc", "uts", "userns_mode"))


class NoEngineSocket(ServiceCheck):
    def __init__(self) -> None:
        super().__init__("Service mounts no container engine socket (root on the host)", "CKV_MYW_5")

    def passes(self, service: dict[str, Any]) -> bool:
        mounts = []
        for volume in service.get("volumes") or []:
            if isinstance(volume, dict):
                mounts.append(str(volume.get("source", "")))
            elif isinstance(volume, str) and not volume.startswith("__"):
                mounts.append(volume.split(":")[0])
        return not any(m.endswith(SOCKETS) for m in mounts)


class RestartPolicy(ServiceCheck):
    def __init__(self) -> None:
        super().__init__("Service has a restart policy that restarts it after a crash", "CKV_MYW_6")

    def passes(self, service: dict[str, Any]) -> bool:
        return str(service.get("restart", "")).split(":")[0] in ("always", "unless-stopped", "on-failure")


class ResourceLimits(ServiceCheck):
    def __init__(self) -> None:
        super().__init__("Service limits its memory, CPU and number of processes", "CKV_MYW_7")

    def passes(self, service: dict[str, Any]) -> bool:
        limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        memory = limits.get("memory") or service.get("mem_limit")
        cpus = limits.get("cpus") or service.get("cpus")
        pids = limits.get("pids") or service.get("pids_limit")
        return bool(memory and cpus and pids)


class Healthcheck(ServiceCheck):
    def __init__(self) -> None:
        super().__init__("Service has a healthcheck", "CKV_MYW_8")

    def passes(self, service: dict[str, Any]) -> bool:
        health = service.get("healthcheck")
        return isinstance(health, dict) and not health.get("disable") and bool(health.get("test"))


class NonRootUser(ServiceCheck):
    def __init__(self) -> None:
        super().__init__("Service runs as a non-root user (its own `user`, or the image built here)", "CKV_MYW_9")

    def passes(self, service: dict[str, Any]) -> bool:
        user = str(service.get("user", "")).split(":")[0]
        if user:
            return user not in ("0", "root")
        # No `user`: the image's USER applies. Only the image this repository builds is known to set one
        # (the Dockerfile's USER; tests/container/run.sh checks the built image runs as UID 1000).
        return "build" in service


class PortsOnChosenAddress(ServiceCheck):
    def __init__(self) -> None:
        super().__init__("Service publishes ports only on an address given by the operator", "CKV_MYW_10")

    def passes(self, service: dict[str, Any]) -> bool:
        # "HOST:CONTAINER" alone binds every host address with no way to narrow it without editing the file.
        for port in service.get("ports") or []:
            if isinstance(port, dict):
                if "host_ip" not in port:
                    return False
            elif isinstance(port, str) and not port.startswith("__") and port.count(":") < 2:
                return False
        return True


for check in (ReadOnlyRootFilesystem, AllCapabilitiesDropped, NoNewPrivileges, NoHostNamespaces, NoEngineSocket,
              RestartPolicy, ResourceLimits, Healthcheck, NonRootUser, PortsOnChosenAddress):
    check()
