#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need (idempotent: installs only what is missing).
# Runs as root, or through sudo when available.
set -euo pipefail

packages=(libssl-dev libsqlite3-dev zlib1g-dev nginx-light curl openssl shellcheck util-linux iproute2 procps python3
    testssl.sh bsdextrautils libxml2-utils chromium)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6.1 or later is needed)" >&2; exit 1; }
