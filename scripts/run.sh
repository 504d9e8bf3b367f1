#!/usr/bin/env bash
# Builds the release binaries and serves the embedded sample site on this machine:
#   https://127.0.0.1:8443/  (a self-signed certificate is generated on the first run)
#   http://127.0.0.1:8080/   (redirects to HTTPS)
# The sample content (content/) is built into a data package under .build/site/ first. Extra arguments go to
# `mywebsite serve`, e.g. `scripts/run.sh --threads 1`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
swift build -c release
state=.build/site
.build/release/mywebsite-data build content --out "$state/data"
exec .build/release/mywebsite serve --mode direct-tls --host 127.0.0.1 --https-port 8443 --http-port 8080 \
    --site-url https://localhost:8443 --data-path "$state/data" --config-path "$state/config" \
    --static-path web/static --templates-path web/templates "$@"
