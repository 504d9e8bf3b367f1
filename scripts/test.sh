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

# No test may write a log file into the working tree (an empty access.log was once committed that way). Checked
# before the first step and after each one, so a failure names the step whose tests wrote it.
stray_logs() { for f in access.log error.log; do [ ! -e "$f" ] || echo "$f"; done; }
check_no_stray_logs() {
    local found
    found="$(stray_logs)"
    [ -z "$found" ] || { echo "FAIL: $1 left $(echo "$found" | tr '\n' ' ')at the repository root" >&2; exit 1; }
}
check_no_stray_logs "a previous run (remove the file and re-run)"

step "build (undeclared imports between targets fail the build)"
swift build --build-tests --explicit-target-dependency-import-check error -Xswiftc -warnings-as-errors

check_no_stray_logs "build"

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

check_no_stray_logs "unit, end-to-end and sanitizer tests"

step "delivery: GitLab pipeline, CI scripts, Ansible role, Kubernetes manifests"
MYWEBSITE_BIN="$PWD/.build/debug/mywebsite" MYWEBSITE_DATA_BIN="$PWD/.build/debug/mywebsite-data" tests/delivery/run.sh

check_no_stray_logs "delivery: GitLab pipeline, CI scripts, Ansible role, Kubernetes manifests"

step "container image and compose stack (podman, offline)"
tests/container/run.sh

check_no_stray_logs "container image and compose stack"

step "TLS scan of the server with testssl.sh (no HIGH or CRITICAL finding)"
tests/tls/testssl.sh "$PWD/.build/debug/mywebsite"

check_no_stray_logs "TLS scan of the server with testssl.sh"

step "lint"
swift format lint --strict --recursive Package.swift Sources Tests Fuzz
mapfile -t scripts < <(git ls-files '*.sh' .ci/run)
shellcheck "${scripts[@]}"
echo "all tests passed"
