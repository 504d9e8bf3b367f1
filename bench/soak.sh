#!/usr/bin/env bash
# Soak test (issue #2): wrk load plus malformed requests, abrupt disconnects and stalled connections for
# DURATION seconds; then checks that every well-formed request was answered, the server still runs and
# answers /healthz, and its RSS and fd count came back. See bench/README.md, "Soak test".
# Only 127.0.0.1 is ever contacted; every process started is stopped by PID on exit.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname "$BENCH_DIR")
# shellcheck source=lib/common.sh
source "$BENCH_DIR/lib/common.sh"

usage() {
    cat <<EOF
usage: bench/soak.sh [--duration SECONDS] [--tls]

  --duration S   seconds of load and attack (default 60)
  --tls          direct-tls mode: HTTPS for wrk and the attackers, plus non-TLS bytes, stalled handshakes
                 and ClientHellos followed by disconnects; exits 2 if the binary refuses direct-tls

environment (defaults): SOAK_CONNECTIONS=64 SOAK_WRK_THREADS=2 SOAK_SERVER_THREADS=2 SOAK_ATTACK_WORKERS=4
  SOAK_SLOW_MAX=48 (stalled connections held at once) SOAK_HEADER_TIMEOUT=2 (the server's --header-timeout)
  SOAK_SETTLE=15 (s to wait for fds and RSS to come back) SOAK_RSS_TOLERANCE=10 (% above the baseline)
  SOAK_SEED= (attacker's random seed) SOAK_KEEP_TMP=0 MYWEBSITE_ARGS= (extra flags for mywebsite serve)
  MYWEBSITE_BIN=$REPO_ROOT/.build/release/mywebsite (built with 'swift build -c release' if missing)
exit status: 0 every check passed, 1 a check failed (or the script could not run), 2 direct-tls unsupported
EOF
}

# count NAME VALUE: VALUE if it is a whole number > 0, else dies naming NAME.
count() {
    if [[ ! $2 =~ ^[0-9]+$ ]] || (($2 == 0)); then die "$1: expected a positive whole number, got '$2'"; fi
    echo "$2"
}

# --- options and environment ---------------------------------------------------------------------------
DURATION=60 TLS=0
while (($#)); do
    case $1 in
    --duration)
        (($# >= 2)) || die "--duration needs a number of seconds"
        DURATION=$2
        shift
        ;;
    --tls) TLS=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        usage >&2
        exit 1
        ;;
    esac
    shift
done
DURATION=$(count --duration "${DURATION%s}")
CONNECTIONS=$(count SOAK_CONNECTIONS "${SOAK_CONNECTIONS:-64}")
WRK_THREADS=$(count SOAK_WRK_THREADS "${SOAK_WRK_THREADS:-2}")
SERVER_THREADS=$(count SOAK_SERVER_THREADS "${SOAK_SERVER_THREADS:-2}")
ATTACK_WORKERS=$(count SOAK_ATTACK_WORKERS "${SOAK_ATTACK_WORKERS:-4}")
SLOW_MAX=${SOAK_SLOW_MAX:-48}
[[ $SLOW_MAX =~ ^[0-9]+$ ]] || die "SOAK_SLOW_MAX: expected a whole number (0 for none), got '$SLOW_MAX'"
HEADER_TIMEOUT=$(count SOAK_HEADER_TIMEOUT "${SOAK_HEADER_TIMEOUT:-2}")
SETTLE=$(count SOAK_SETTLE "${SOAK_SETTLE:-15}")
RSS_TOLERANCE=$(count SOAK_RSS_TOLERANCE "${SOAK_RSS_TOLERANCE:-10}")
SEED=${SOAK_SEED:-$((RANDOM * 32768 + RANDOM))}
[[ $SEED =~ ^[0-9]+$ ]] || die "SOAK_SEED: expected a whole number, got '$SEED'"
read -ra MYWEBSITE_EXTRA <<<"${MYWEBSITE_ARGS:-}"

for tool in wrk python3 timeout; do
    command -v "$tool" >/dev/null || die "$tool not found: run bench/setup.sh"
done
((TLS == 0)) || command -v openssl >/dev/null || die "openssl not found: run bench/setup.sh"
resolve_mywebsite_bin

# wrk's connections plus stalled ones plus the attackers' own, on both sides of the loopback.
ulimit -n "$(ulimit -Hn)"

# --- workspace, results, clean-up ------------------------------------------------------------------------
BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/mywebsite-soak.XXXXXX")
cleanup() {
    bg_stop_all
    if [[ ${SOAK_KEEP_TMP:-0} == 1 ]]; then log "kept $BENCH_TMP"; else rm -rf "$BENCH_TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export TMPDIR=$BENCH_TMP

SCHEME=http
((TLS == 0)) || SCHEME=https
RESULTS=$BENCH_DIR/results/soak-$(date -u +%Y%m%dT%H%M%SZ)-$SCHEME
[[ ! -e $RESULTS ]] || RESULTS+="-$$"
mkdir -p "$RESULTS"
STATIC_DIR=$BENCH_TMP/static
python3 "$BENCH_TOOLS_DIR/fixtures.py" make "$STATIC_DIR"
CERT=$BENCH_TMP/cert.pem KEY=$BENCH_TMP/key.pem
if ((TLS)); then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$KEY" -out "$CERT" \
        -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>"$RESULTS/openssl.stderr" ||
        die "openssl could not make a certificate: $(cat "$RESULTS/openssl.stderr")"
fi

# bg_wait PID: waits for a child started with bg_start, forgets it, returns its status.
bg_wait() {
    local status=0
    wait "$1" || status=$?
    unset "BG_NAME[$1]"
    return "$status"
}

# proc_now: sets RSS FDS (and HWM) from the server's /proc entries; false once it is gone.
proc_now() {
    local line _threads
    line=$(python3 "$BENCH_TOOLS_DIR/soak_watch.py" now "$SERVER_PID" 2>/dev/null) || return 1
    read -r RSS HWM FDS _threads <<<"$line"
}

# mib KIB: KiB as MiB with one decimal.
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

# --- the server ---------------------------------------------------------------------------------------------
SERVER_OUT=$RESULTS/server.stdout SERVER_ERR=$RESULTS/server.stderr
args=(serve --host 127.0.0.1 --threads "$SERVER_THREADS" --static-path "$STATIC_DIR" --access-log off
    --header-timeout "$HEADER_TIMEOUT")
if ((TLS)); then
    # The attackers' stalled handshakes must close within the header timeout, as stalled heads do: the
    # handshake has its own timeout (10 s by default), set to the same here.
    args+=(--mode direct-tls --https-port 0 --http-port 0 --cert "$CERT" --key "$KEY"
        --tls-handshake-timeout "$HEADER_TIMEOUT")
else
    args+=(--port 0)
fi
echo "$MYWEBSITE_BIN ${args[*]} ${MYWEBSITE_EXTRA[*]}" >"$RESULTS/server.cmdline"
bg_start mywebsite "$SERVER_OUT" "$SERVER_ERR" "$MYWEBSITE_BIN" "${args[@]}" "${MYWEBSITE_EXTRA[@]}"
SERVER_PID=$BG_PID
if ! line=$(wait_for_line "$SERVER_OUT" "^listening: $SCHEME://127\\.0\\.0\\.1:[0-9]+" 60 "$SERVER_PID"); then
    tail -n 20 "$SERVER_ERR" >&2 || true
    if ((TLS)) && ! proc_running "$SERVER_PID"; then
        printf 'soak: direct-tls not supported by this binary (%s refused to start in that mode; above)\n' \
            "$MYWEBSITE_BIN" >&2
        exit 2
    fi
    die "mywebsite printed no 'listening: $SCHEME://127.0.0.1:PORT' line within 60 s; logs in $RESULTS"
fi
[[ $line =~ :([0-9]+)[[:space:]]*$ ]] || die "cannot read the port in '$line'"
PORT=${BASH_REMATCH[1]}
BASE_URL=$SCHEME://127.0.0.1:$PORT
wait_for_port "$PORT" 30 "$SERVER_PID" || die "127.0.0.1:$PORT accepted no connection within 30 s"
for file in "$STATIC_DIR"/*.bin; do
    python3 "$BENCH_TOOLS_DIR/fixtures.py" check "$BASE_URL/static/${file##*/}" "$file" ||
        die "wrong response for /static/${file##*/} before the soak"
done
log "mywebsite: pid $SERVER_PID, $BASE_URL; results in $RESULTS"

ATTACK=(python3 "$BENCH_TOOLS_DIR/soak_attack.py" --port "$PORT" --header-timeout "$HEADER_TIMEOUT"
    --static-dir "$STATIC_DIR" --workers "$ATTACK_WORKERS" --slow-max "$SLOW_MAX" --seed "$SEED")
((TLS == 0)) || ATTACK+=(--tls)
WRK=(wrk -t "$WRK_THREADS" -c "$CONNECTIONS" --timeout 5s)

# --- warm-up and baseline ---------------------------------------------------------------------------------
# Steady-state load for a few seconds (tens of thousands of requests), and each attack case once, so the
# baseline is a warmed-up server (pools, caches, lazily made state), then wait for the fd count to stop
# moving: wrk's and the attacker's connections are closing.
log "warm-up: wrk 3 s, each attack case once"
bg_run warm-up "$RESULTS/warmup.wrk.txt" 60 "${WRK[@]}" -d 3s "$BASE_URL/static/12k.bin" ||
    die "warm-up wrk failed: $(tail -n 3 "$RESULTS/warmup.wrk.txt")"
bg_run warm-up-attack "$RESULTS/warmup.attack.txt" 120 "${ATTACK[@]}" --once ||
    log "warm-up attack reported violations (see $RESULTS/warmup.attack.txt); going on"
proc_now || die "mywebsite exited during the warm-up; see $SERVER_ERR"
previous=-1
for ((i = 0; i < 20 && FDS != previous; i++)); do
    previous=$FDS
    sleep 0.5
    proc_now || die "mywebsite exited during the warm-up; see $SERVER_ERR"
done
BASE_RSS=$RSS BASE_FDS=$FDS
log "baseline: RSS $(mib "$BASE_RSS"), $BASE_FDS fds"

# --- the soak ------------------------------------------------------------------------------------------------
log "soak: ${DURATION} s of wrk -t$WRK_THREADS -c$CONNECTIONS on /static/12k.bin + $ATTACK_WORKERS attack workers" \
    "+ up to $SLOW_MAX stalled connections (seed $SEED)"
bg_start sampler /dev/null "$RESULTS/sampler.stderr" python3 "$BENCH_TOOLS_DIR/soak_watch.py" sample "$SERVER_PID" \
    "$RESULTS/samples.txt"
SAMPLER_PID=$BG_PID
bg_start wrk "$RESULTS/wrk.txt" "$RESULTS/wrk.stderr" timeout -k 5 $((DURATION + 60)) \
    "${WRK[@]}" -d "${DURATION}s" --latency "$BASE_URL/static/12k.bin"
WRK_PID=$BG_PID
bg_start attack "$RESULTS/attack.txt" "$RESULTS/attack.stderr" timeout -k 5 $((DURATION + 120)) \
    "${ATTACK[@]}" --duration "$DURATION" --json "$RESULTS/attack.json"
ATTACK_PID=$BG_PID
WRK_STATUS=0 ATTACK_STATUS=0
bg_wait "$WRK_PID" || WRK_STATUS=$?
bg_wait "$ATTACK_PID" || ATTACK_STATUS=$?

# --- after ----------------------------------------------------------------------------------------------------
ALIVE=0 HEALTHZ=none BYTES_OK=1
if proc_running "$SERVER_PID"; then ALIVE=1; fi
if ((ALIVE)); then
    HEALTHZ=$(python3 "$BENCH_TOOLS_DIR/soak_watch.py" get "$BASE_URL/healthz") || true
    for file in "$STATIC_DIR"/*.bin; do
        python3 "$BENCH_TOOLS_DIR/fixtures.py" check "$BASE_URL/static/${file##*/}" "$file" || BYTES_OK=0
    done
fi
# The attackers have closed everything; stalled connections they did not close the header timeout ends.
# Wait until the fd count is back and RSS is under the limit, or SETTLE seconds.
RSS_LIMIT=$((BASE_RSS + BASE_RSS * RSS_TOLERANCE / 100))
AFTER_RSS=0 AFTER_FDS=0 waited=0
if ((ALIVE)); then
    deadline=$((SECONDS + SETTLE))
    while proc_now; do
        AFTER_RSS=$RSS AFTER_FDS=$FDS
        if { ((FDS <= BASE_FDS && RSS <= RSS_LIMIT)) && ((waited >= 2)); } || ((SECONDS >= deadline)); then break; fi
        sleep 1
        waited=$((waited + 1))
    done
    proc_running "$SERVER_PID" || ALIVE=0
fi
bg_stop "$SAMPLER_PID"
read -r PEAK_RSS PEAK_FDS < <(python3 "$BENCH_TOOLS_DIR/soak_watch.py" peak "$RESULTS/samples.txt") ||
    PEAK_RSS=0 PEAK_FDS=0
PEAK_HWM=${HWM:-0}
STOP_STATUS=none
if ((ALIVE)); then
    bg_stop "$SERVER_PID"
    STOP_STATUS=$BG_STATUS
else
    STOP_STATUS=0
    bg_wait "$SERVER_PID" || STOP_STATUS=$?
fi

# --- figures and checks ------------------------------------------------------------------------------------------
# wrk_field REGEX: the first capture of REGEX (sed -E) in wrk's output, or 0.
wrk_field() { sed -nE "s/$1/\\1/p" "$RESULTS/wrk.txt" | head -n1 | grep . || echo 0; }
REQUESTS=$(wrk_field '^ *([0-9]+) requests in .*')
RPS=$(wrk_field '^Requests\/sec: *([0-9.]+).*')
P50=$(wrk_field '^ +50% +([0-9.]+[a-z]+).*')
P99=$(wrk_field '^ +99% +([0-9.]+[a-z]+).*')
NON2XX=$(wrk_field '^ *Non-2xx or 3xx responses: ([0-9]+).*')
read -r E_CONNECT E_READ E_WRITE E_TIMEOUT < <(
    sed -nE 's/.*Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+).*/\1 \2 \3 \4/p' \
        "$RESULTS/wrk.txt" | grep . || echo 0 0 0 0
)

CHECKS=() FAILED=0
# check NAME OK: records "PASS NAME" when OK is 1, else "FAIL NAME".
check() {
    if (($2)); then CHECKS+=("PASS  $1"); else
        CHECKS+=("FAIL  $1")
        FAILED=$((FAILED + 1))
    fi
}
healthz_ok=0 stop_ok=0
[[ $HEALTHZ != 200 ]] || healthz_ok=1
[[ $STOP_STATUS != 0 ]] || stop_ok=1
check "wrk ran its ${DURATION} s and exited 0 (status $WRK_STATUS)" $((WRK_STATUS == 0 && REQUESTS > 0))
check "wrk: every response 2xx/3xx (non-2xx/3xx: $NON2XX)" $((NON2XX == 0))
check "wrk: no socket errors (connect $E_CONNECT, read $E_READ, write $E_WRITE, timeout $E_TIMEOUT)" \
    $((E_CONNECT + E_READ + E_WRITE + E_TIMEOUT == 0))
attack_what="malformed → 4xx/5xx, control GET → 200 + right bytes, stalled connections closed in time"
check "attackers: no violation ($attack_what; exit status $ATTACK_STATUS)" $((ATTACK_STATUS == 0))
check "mywebsite still running after the soak" "$ALIVE"
check "GET /healthz answers 200 after the soak (got ${HEALTHZ:-nothing})" "$healthz_ok"
check "the fixtures still come back byte for byte after the soak" $((ALIVE && BYTES_OK))
check "fds back to the baseline ($AFTER_FDS after, $BASE_FDS before)" $((ALIVE && AFTER_FDS <= BASE_FDS))
check "RSS within ${RSS_TOLERANCE}% of the baseline ($(mib "$AFTER_RSS") after, limit $(mib "$RSS_LIMIT"))" \
    $((ALIVE && AFTER_RSS <= RSS_LIMIT))
check "SIGTERM: mywebsite exits 0 (status $STOP_STATUS)" "$stop_ok"

rss_change=$(awk -v a="$AFTER_RSS" -v b="$BASE_RSS" 'BEGIN { printf "%+.1f%%", b ? (a - b) * 100 / b : 0 }')
errors=$(grep -cE ' (error|critical) ' "$SERVER_ERR" || true)
{
    echo "soak: $MYWEBSITE_BIN, $SCHEME, ${DURATION} s, seed $SEED," \
        "--threads $SERVER_THREADS --header-timeout $HEADER_TIMEOUT"
    echo "load: wrk -t$WRK_THREADS -c$CONNECTIONS /static/12k.bin: $REQUESTS requests, $RPS req/s," \
        "p50 $P50, p99 $P99; non-2xx/3xx $NON2XX;" \
        "socket errors connect $E_CONNECT, read $E_READ, write $E_WRITE, timeout $E_TIMEOUT"
    sed 's/^/  /' "$RESULTS/attack.txt" 2>/dev/null || echo "  (no attacker output)"
    after_rss="$(mib "$AFTER_RSS") ($rss_change, ${waited} s after the load)" after_fds=$AFTER_FDS
    ((ALIVE)) || after_rss="n/a (server gone)" after_fds="n/a"
    echo "memory: RSS before $(mib "$BASE_RSS"), peak $(mib "$PEAK_RSS") (VmHWM $(mib "$PEAK_HWM"), since start)," \
        "after $after_rss"
    echo "fds: before $BASE_FDS, peak $PEAK_FDS, after $after_fds"
    echo "server: error/critical log lines $errors; stderr in $SERVER_ERR"
    if ((ALIVE == 0)); then
        signal=""
        ((STOP_STATUS <= 128)) || signal=" (SIG$(kill -l $((STOP_STATUS - 128)) 2>/dev/null || echo '?'))"
        echo "server DIED: exit status $STOP_STATUS$signal; last lines of its stderr:"
        tail -n 20 "$SERVER_ERR" | sed 's/^/  /'
    fi
    echo "checks:"
    printf '  %s\n' "${CHECKS[@]}"
    if ((FAILED)); then echo "soak: FAILED ($FAILED of ${#CHECKS[@]} checks); results in $RESULTS"; else
        echo "soak: passed (${#CHECKS[@]} checks); results in $RESULTS"
    fi
} | tee "$RESULTS/summary.txt"
((FAILED == 0))
