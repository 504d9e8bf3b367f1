# shellcheck shell=bash
# Logging, ports and child-process bookkeeping for bench/run.sh. Sourced, not run; defines functions only.
#
# Every long-lived process goes through bg_start, which records its PID; bg_stop_all (run.sh's EXIT trap)
# stops each one by PID — SIGTERM, then SIGKILL for it and any descendant still alive after 10 s.
# Nothing is ever killed by name.

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_TOOLS_DIR=$(cd "$BENCH_LIB_DIR/../tools" && pwd)

declare -gA BG_NAME=() # pid -> name, for processes started by bg_start and not yet stopped

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

# free_port: prints a TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick for port 0).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# proc_running PID: true while PID exists and is not a zombie waiting to be reaped.
proc_running() {
    local state
    state=$(sed -E 's/.*\) (.).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $state && $state != Z ]]
}

# wait_for_port PORT SECONDS PID: true once 127.0.0.1:PORT accepts a connection; false on timeout or if
# PID exits first.
wait_for_port() {
    local port=$1 deadline=$((SECONDS + $2)) pid=$3
    while ((SECONDS < deadline)); do
        proc_running "$pid" || return 1
        if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

# wait_for_line FILE REGEX SECONDS PID: prints the first line of FILE matching the extended REGEX once it
# appears; false on timeout or if PID exits first.
wait_for_line() {
    local file=$1 regex=$2 deadline=$((SECONDS + $3)) pid=$4 line
    while ((SECONDS < deadline)); do
        if line=$(grep -m1 -E "$regex" "$file" 2>/dev/null); then
            printf '%s\n' "$line"
            return 0
        fi
        proc_running "$pid" || return 1
        sleep 0.1
    done
    return 1
}

# bg_start NAME STDOUT STDERR CMD...: runs CMD in the background and sets BG_PID to its PID.
bg_start() {
    local name=$1 out=$2 err=$3
    shift 3
    "$@" >"$out" 2>"$err" </dev/null &
    BG_PID=$!
    BG_NAME[$BG_PID]=$name
}

# bg_run NAME OUT SECONDS CMD...: runs CMD to completion, stdout and stderr to OUT, killed after SECONDS;
# returns its status. CMD runs in the background and we `wait` for it, because bash runs a trap only
# between commands: a foreground wrk would hold off Ctrl-C or SIGTERM until its run ended, while an
# interrupted `wait` lets the EXIT trap stop CMD at once.
bg_run() {
    local name=$1 out=$2 limit=$3 pid status=0
    shift 3
    timeout -k 5 "$limit" "$@" >"$out" 2>&1 </dev/null &
    pid=$!
    BG_NAME[$pid]=$name
    wait "$pid" || status=$?
    unset "BG_NAME[$pid]"
    return "$status"
}

# bg_stop PID: SIGTERM, wait up to 10 s, then SIGKILL PID and whichever of its descendants (as seen just
# before the SIGTERM, same PID and same command name) are still alive. Sets BG_STATUS to PID's exit
# status (128+signal if a signal ended it).
# shellcheck disable=SC2034 # BG_STATUS is read by callers
bg_stop() {
    local pid=$1 deadline entry tree=()
    BG_STATUS=0
    if proc_running "$pid"; then
        local child comm
        for child in $(python3 "$BENCH_TOOLS_DIR/procstat.py" pids "$pid" 2>/dev/null); do
            comm=$(cat "/proc/$child/comm" 2>/dev/null) && tree+=("$child:$comm")
        done
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 10))
        while proc_running "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
        if proc_running "$pid"; then
            log "${BG_NAME[$pid]:-$pid} ignored SIGTERM for 10 s: SIGKILL"
        fi
        for entry in "${tree[@]}"; do
            if proc_running "${entry%%:*}" && [[ $(cat "/proc/${entry%%:*}/comm" 2>/dev/null) == "${entry#*:}" ]]; then
                kill -KILL "${entry%%:*}" 2>/dev/null || true
            fi
        done
    fi
    wait "$pid" 2>/dev/null || BG_STATUS=$?
    unset "BG_NAME[$pid]"
}

# bg_stop_all: stops every process bg_start started and bg_stop has not (the EXIT trap).
bg_stop_all() {
    local pid
    for pid in "${!BG_NAME[@]}"; do bg_stop "$pid"; done
}

# Sets MYWEBSITE_BIN to an absolute path: the given one, or .build/release/mywebsite (built if missing).
resolve_mywebsite_bin() {
    if [[ -z ${MYWEBSITE_BIN:-} ]]; then
        MYWEBSITE_BIN=$REPO_ROOT/.build/release/mywebsite
        if [[ ! -x $MYWEBSITE_BIN ]]; then
            log "building $MYWEBSITE_BIN (swift build -c release)"
            (cd "$REPO_ROOT" && swift build -c release) || die "swift build -c release failed"
        fi
    fi
    [[ -x $MYWEBSITE_BIN ]] || die "MYWEBSITE_BIN: not an executable file: '$MYWEBSITE_BIN'"
    MYWEBSITE_BIN=$(cd "$(dirname "$MYWEBSITE_BIN")" && pwd)/$(basename "$MYWEBSITE_BIN")
}
