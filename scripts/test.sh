#!/usr/bin/env bash
# Runs every test from a fresh clone: installs what is missing, builds with the layering check and warnings as
# errors, runs the unit and end-to-end tests (real binary, curl, openssl s_client, raw sockets, nginx in front),
# the same tests under AddressSanitizer and ThreadSanitizer, a testssl.sh scan, and the linters.
#
#   scripts/test.sh            everything
#   SKIP_SANITIZERS=1 scripts/test.sh   skip the two sanitizer runs (quicker local loop)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

step() { printf '\n== %s\n' "$*"; }

step "build (undeclared imports between targets fail the build)"
swift build --build-tests --explicit-target-dependency-import-check error -Xswiftc -warnings-as-errors

step "unit and end-to-end tests"
MYWEBSITE_BIN="$PWD/.build/debug/mywebsite" swift test --skip-build

if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
    for sanitizer in address thread; do
        step "tests under --sanitize=$sanitizer"
        scratch=".build-$sanitizer"
        swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch"
        # The end-to-end tests start the sanitized server binary too.
        MYWEBSITE_BIN="$PWD/$scratch/debug/mywebsite" MYWEBSITE_SANITIZER="$sanitizer" TSAN_OPTIONS="halt_on_error=1" \
            ASAN_OPTIONS="detect_leaks=0" swift test --skip-build --sanitize="$sanitizer" --scratch-path "$scratch"
    done
fi

step "delivery: GitLab pipeline, CI scripts, Ansible role, Kubernetes manifests"
MYWEBSITE_BIN="$PWD/.build/debug/mywebsite" MYWEBSITE_DATA_BIN="$PWD/.build/debug/mywebsite-data" tests/delivery/run.sh

step "container image and compose stack (podman, offline)"
tests/container/run.sh

step "TLS scan of the server with testssl.sh (no HIGH or CRITICAL finding)"
tests/tls/testssl.sh "$PWD/.build/debug/mywebsite"

step "lint"
swift format lint --strict --recursive Package.swift Sources Tests Fuzz
mapfile -t scripts < <(git ls-files '*.sh' .ci/run)
shellcheck "${scripts[@]}"
echo "all tests passed"
