#!/usr/bin/env bash
# Helpers shared by the container test scripts (sourced, not run).
# shellcheck disable=SC2034 # variables set here are read by the scripts that source this file

# Every podman object the tests make carries this prefix, so clean-up removes exactly those, by name.
PREFIX="${MYWEBSITE_CT_PREFIX:-mywebsite-ct}"
# Base images are kept between runs (they take minutes to make) and carry this label.
BASE_LABEL="io.github.mywebsite.test-base-image=1"

log() { printf '%s %s\n' "$(date +%T)" "$*"; }
fail() {
    printf '%s FAIL: %s\n' "$(date +%T)" "$*" >&2
    exit 1
}
ok() {
    PASSED=$((${PASSED:-0} + 1))
    printf '%s ok: %s\n' "$(date +%T)" "$*"
}

# wait_until SECONDS DESCRIPTION COMMAND...: runs COMMAND every half second until it succeeds; fails after SECONDS.
wait_until() {
    local seconds="$1" what="$2"
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || fail "timed out after ${seconds}s waiting for: $what"
        sleep 0.5
    done
}

# free_port: a TCP port nothing listens on, on 127.0.0.1 (from a range the kernel does not hand out itself).
free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 10000))
        if ! ss -Htln "sport = :$port" | grep . >/dev/null && ! grep -qx "$port" <<<"${USED_PORTS:-}"; then
            USED_PORTS="${USED_PORTS:-}"$'\n'"$port"
            echo "$port"
            return 0
        fi
    done
    fail "no free port found"
}

# The apt mirror of this machine, read from its sources (never written in the repository).
apt_mirror() {
    local mirror=""
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        mirror="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
    fi
    if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
        mirror="$(awk '$1 == "deb" && $0 !~ /security/ { print $2; exit }' /etc/apt/sources.list)"
    fi
    [ -n "$mirror" ] || fail "cannot read the Debian mirror from /etc/apt/sources.list(.d)"
    echo "$mirror"
}

# container_health NAME: runs the container's healthcheck once (nothing schedules them without systemd) and
# prints the status podman records.
container_health() {
    podman healthcheck run "$1" >/dev/null 2>&1 || true
    podman inspect --format '{{.State.Health.Status}}' "$1" 2>/dev/null || podman inspect \
        --format '{{.State.Healthcheck.Status}}' "$1"
}
is_healthy() { [ "$(container_health "$1")" = healthy ]; }
