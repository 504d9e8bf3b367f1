#!/usr/bin/env bash
# Runs every test from a fresh clone: installs what is missing, builds with the layering check and warnings as
# errors, runs the unit and end-to-end tests (real binary, curl, openssl s_client, raw sockets, nginx in front),
# the same tests under AddressSanitizer and ThreadSanitizer, a testssl.sh scan, and the linters.
#
#   scripts/test.sh                    everything (what CI runs)
#   scripts/test.sh --unprivileged     all but what needs root with full privileges (rootful podman, debootstrap,
#                                      network namespaces): the container suite and PrivilegedPortTests. For a
#                                      runner such as GitLab's Docker executor; the rest runs in --privileged-only
#   scripts/test.sh --privileged-only  only those: setup, build, PrivilegedPortTests, the container suite
#   scripts/test.sh --list [MODE]      print the steps MODE runs, and run nothing
#   SKIP_SANITIZERS=1 scripts/test.sh  skip the two sanitizer runs (quicker local loop)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=all
list=0
for arg in "$@"; do
    case "$arg" in
        --unprivileged) mode=unprivileged ;;
        --privileged-only) mode=privileged ;;
        --list) list=1 ;;
        *) echo "scripts/test.sh: unknown argument $arg (see the comment at the top)" >&2; exit 64 ;;
    esac
done
# The steps of each mode, in order.
case "$mode" in
    all) steps=(build tests sanitizers privileged delivery containers testssl lint) ;;
    unprivileged) steps=(build tests sanitizers delivery testssl lint) ;;
    privileged) steps=(build privileged containers) ;;
esac
if [ "$list" = 1 ]; then printf '%s\n' "${steps[@]}"; exit 0; fi
runs() { [[ " ${steps[*]} " == *" $1 "* ]]; }

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

step "build (undeclared imports between targets fail the build)"  # every mode
swift build --build-tests --explicit-target-dependency-import-check error -Xswiftc -warnings-as-errors

check_no_stray_logs "build"

# PrivilegedPortTests make network namespaces: they run in the `privileged` step, never in `tests`.
if runs tests; then
    step "unit and end-to-end tests"
    MYWEBSITE_BIN="$PWD/.build/debug/mywebsite" swift test --skip-build --skip PrivilegedPortTests
fi

if runs privileged; then
    step "tests that need a privileged runner (network namespaces)"
    result="$(mktemp)"
    MYWEBSITE_BIN="$PWD/.build/debug/mywebsite" swift test --skip-build --filter PrivilegedPortTests | tee "$result"
    # Skipped for want of root or util-linux would pass silently: this step exists to run them.
    if grep -q "skipped" "$result"; then echo "FAIL: PrivilegedPortTests were skipped on this runner" >&2; exit 1; fi
    rm -f "$result"
fi

if runs sanitizers && [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
    for sanitizer in address thread; do
        step "tests under --sanitize=$sanitizer"
        scratch=".build-$sanitizer"
        swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch"
        # The end-to-end tests start the sanitized server binary too.
        MYWEBSITE_BIN="$PWD/$scratch/debug/mywebsite" MYWEBSITE_SANITIZER="$sanitizer" TSAN_OPTIONS="halt_on_error=1" \
            ASAN_OPTIONS="detect_leaks=0" swift test --skip-build --sanitize="$sanitizer" --scratch-path "$scratch" \
            --skip PrivilegedPortTests
    done
fi

check_no_stray_logs "unit, end-to-end and sanitizer tests"

if runs delivery; then
    step "delivery: GitLab pipeline, CI scripts, Ansible role, Kubernetes manifests"
    MYWEBSITE_BIN="$PWD/.build/debug/mywebsite" MYWEBSITE_DATA_BIN="$PWD/.build/debug/mywebsite-data" \
        tests/delivery/run.sh
    check_no_stray_logs "delivery: GitLab pipeline, CI scripts, Ansible role, Kubernetes manifests"
fi

if runs containers; then
    step "container image and compose stack (podman, offline)"
    tests/container/run.sh
    check_no_stray_logs "container image and compose stack"
fi

if runs testssl; then
    step "TLS scan of the server with testssl.sh (no HIGH or CRITICAL finding)"
    tests/tls/testssl.sh "$PWD/.build/debug/mywebsite"
    check_no_stray_logs "TLS scan of the server with testssl.sh"
fi

if runs lint; then
    step "lint"
    swift format lint --strict --recursive Package.swift Sources Tests Fuzz
    mapfile -t scripts < <(git ls-files '*.sh' .ci/run)
    shellcheck "${scripts[@]}"
fi
echo "all tests passed ($mode: ${steps[*]})"
