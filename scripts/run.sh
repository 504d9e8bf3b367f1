#!/usr/bin/env bash
# Builds the release binary and serves the site on this machine: http://127.0.0.1:8080 (behind-proxy mode).
# Extra arguments go to `mywebsite serve`, e.g. `scripts/run.sh --port 9000 --threads 1`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
swift build -c release
exec .build/release/mywebsite serve --host 127.0.0.1 --static-path web/static "$@"
