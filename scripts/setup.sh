#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need (idempotent: installs only what is missing).
# Runs as root, or through sudo when available.
set -euo pipefail

packages=(libssl-dev libsqlite3-dev zlib1g-dev nginx-light curl openssl shellcheck util-linux iproute2 procps python3
    testssl.sh bsdextrautils libxml2-utils chromium libnghttp2-dev nghttp2-client python3-venv
    prometheus pebble wrk systemd logrotate)
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
    # `prometheus` is here for its promtool (deployments/monitoring checks); the daemon its package starts is not
    # wanted on a test machine.
    if [[ " ${missing[*]} " == *" prometheus "* ]]; then
        $sudo service prometheus stop >/dev/null 2>&1 || $sudo pkill -x prometheus || true
    fi
fi
command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6.1 or later is needed)" >&2; exit 1; }

# The HTTP/2 conformance suite (tests/http2/conformance.py) speaks raw frames with the Python h2 project's
# hyperframe and hpack; the metrics tests parse /metrics with Prometheus's own Python parser. Pinned, in a venv
# of its own (gitignored).
venv=.venv-test
requirement="h2==4.4.1 prometheus-client==0.26.0"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirement" 2>/dev/null)" != "$requirement" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086  # one word per requirement
    "$venv/bin/pip" install --quiet --disable-pip-version-check $requirement
    echo "$requirement" >"$venv/.requirement"
fi
