#!/usr/bin/env bash
# Installs what bench/run.sh needs on a fresh Debian machine: nginx, wrk, h2load (nghttp2-client), openssl.
# Idempotent: does nothing when every tool is already on PATH. Needs root (or sudo) for apt-get.
set -euo pipefail

missing=()
need_nginx=0
command -v nginx >/dev/null 2>&1 || need_nginx=1
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v h2load >/dev/null 2>&1 || missing+=(nghttp2-client)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

if ((need_nginx == 0 && ${#missing[@]} == 0)); then
    echo "setup: nginx, wrk, h2load and openssl are already installed"
    exit 0
fi

sudo_cmd=()
if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || {
        echo "setup: need root or sudo to install nginx, wrk or h2load" >&2
        exit 1
    }
    sudo_cmd=(sudo)
fi

"${sudo_cmd[@]}" apt-get update
if ((need_nginx)); then
    # Debian 12 ships nginx-light (enough here: static files + TLS); later releases only "nginx".
    if apt-cache show nginx-light >/dev/null 2>&1; then missing+=(nginx-light); else missing+=(nginx); fi
fi
echo "setup: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
