#!/usr/bin/env bash
# Benchmarks mywebsite against nginx on this machine, both started here, same files, same load.
# See bench/README.md. Only 127.0.0.1 is ever contacted; every process started is stopped on exit.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname "$BENCH_DIR")
# shellcheck source=lib/common.sh
source "$BENCH_DIR/lib/common.sh"
# shellcheck source=lib/nginx.sh
source "$BENCH_DIR/lib/nginx.sh"
# shellcheck source=lib/servers.sh
source "$BENCH_DIR/lib/servers.sh"

# Every scenario, in run order. tls-* run only with --tls.
SCENARIOS=(get-1k ceiling-1k get-12k get-12k-log get-100k get-1m page-article idle-connect idle-request tls-get-12k tls-get-12k-log
    tls-page-article tls-handshake tls-handshake-h2load tls-idle-request tls-h2-1k tls-h2-12k)
# ceiling-1k: mywebsite's get-1k against nginx answering 1 KiB from memory (return 200), the most nginx itself
# could do for a 1 KiB file: the report compares it with nginx's get-1k.
# *-log: mywebsite with its access log on (instance MODE-log), against nginx with its log off as always.
# The article page of page-article: rendered by mywebsite from the sample content (content/), and served by
# nginx as a file holding the bytes mywebsite served.
ARTICLE_URI=/en/article/containerize-your-application-in-a-ci-cd-process-with-gitlab

usage() {
    cat <<EOF
usage: bench/run.sh [--tls] [--only PATTERN[,PATTERN…]] [--rounds N]

  --tls        also run the HTTPS scenarios (tls-*)
  --only       run the scenarios matching these shell patterns, e.g. --only get-12k or --only 'idle-*'
  --rounds N   repeat everything N times, alternating which server goes first; the table shows medians

scenarios: ${SCENARIOS[*]}
environment (defaults): BENCH_DURATION=10 (s per wrk run) BENCH_WARMUP=2 BENCH_CONNECTIONS=64
  BENCH_WRK_THREADS=2 BENCH_SERVER_THREADS=2 BENCH_IDLE_CONNS=5000 BENCH_HANDSHAKE_CONNECTIONS=32
  BENCH_H2LOAD_REQUESTS=20000 BENCH_H2_REQUESTS=200000 BENCH_ROUNDS=1 BENCH_CPUS= (taskset list for servers and load, e.g. 0,1)
  MYWEBSITE_BIN=$REPO_ROOT/.build/release/mywebsite (built with 'swift build -c release' if missing;
  page-* also need mywebsite-data in the same directory)
  MYWEBSITE_ARGS= (extra flags for mywebsite serve) BENCH_KEEP_TMP=0
EOF
}

# deselect PATTERN WHY: removes the selected scenarios matching the shell PATTERN, logging WHY; dies if
# none is left.
deselect() {
    local scenario kept=() dropped=()
    for scenario in "${selected[@]}"; do
        # shellcheck disable=SC2053 # the pattern is meant to glob
        if [[ $scenario == $1 ]]; then dropped+=("$scenario"); else kept+=("$scenario"); fi
    done
    ((${#dropped[@]})) || return 0
    log "$2: skipping ${dropped[*]}"
    ((${#kept[@]})) || die "nothing left to run"
    selected=("${kept[@]}")
}

# positive_int NAME VALUE: VALUE, or dies naming NAME.
positive_int() {
    if [[ ! $2 =~ ^[0-9]+$ ]] || (($2 == 0)); then die "$1: expected a positive integer, got '$2'"; fi
    echo "$2"
}

# --- options and environment -------------------------------------------------------------------------
TLS=0 ONLY="*" ROUNDS=${BENCH_ROUNDS:-1}
while (($#)); do
    case $1 in
    --tls) TLS=1 ;;
    --only)
        (($# >= 2)) || die "--only needs a pattern"
        ONLY=$2
        shift
        ;;
    --rounds)
        (($# >= 2)) || die "--rounds needs a number"
        ROUNDS=$2
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
    shift
done
DURATION=${BENCH_DURATION:-10}
DURATION=$(positive_int BENCH_DURATION "${DURATION%s}")
WARMUP=${BENCH_WARMUP:-2}
[[ $WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP: expected seconds (0 for none), got '$WARMUP'"
CONNECTIONS=$(positive_int BENCH_CONNECTIONS "${BENCH_CONNECTIONS:-64}")
WRK_THREADS=$(positive_int BENCH_WRK_THREADS "${BENCH_WRK_THREADS:-2}")
SERVER_THREADS=$(positive_int BENCH_SERVER_THREADS "${BENCH_SERVER_THREADS:-2}")
IDLE_CONNS=$(positive_int BENCH_IDLE_CONNS "${BENCH_IDLE_CONNS:-5000}")
HANDSHAKE_CONNECTIONS=$(positive_int BENCH_HANDSHAKE_CONNECTIONS "${BENCH_HANDSHAKE_CONNECTIONS:-32}")
H2LOAD_REQUESTS=$(positive_int BENCH_H2LOAD_REQUESTS "${BENCH_H2LOAD_REQUESTS:-20000}")
H2_REQUESTS=$(positive_int BENCH_H2_REQUESTS "${BENCH_H2_REQUESTS:-200000}")
ROUNDS=$(positive_int "--rounds/BENCH_ROUNDS" "$ROUNDS")
TASKSET=()
[[ -z ${BENCH_CPUS:-} ]] || TASKSET=(taskset -c "$BENCH_CPUS")
# shellcheck disable=SC2034 # used by lib/servers.sh
read -ra MYWEBSITE_EXTRA <<<"${MYWEBSITE_ARGS:-}"

selected=()
for scenario in "${SCENARIOS[@]}"; do
    [[ $scenario == tls-* && $TLS == 0 ]] && continue
    IFS=, read -ra patterns <<<"$ONLY"
    for pattern in "${patterns[@]}"; do
        # shellcheck disable=SC2254 # the pattern is meant to glob
        case $scenario in $pattern)
            selected+=("$scenario")
            break
            ;;
        esac
    done
done
((${#selected[@]})) || die "no scenario matches --only '$ONLY'$( ((TLS)) || echo ' (tls-* need --tls)')"

for tool in nginx wrk python3 taskset timeout; do
    command -v "$tool" >/dev/null || die "$tool not found: run bench/setup.sh"
done
((TLS == 0)) || command -v openssl >/dev/null || die "openssl not found: run bench/setup.sh"
command -v h2load >/dev/null || die "h2load not found: run bench/setup.sh (tls-handshake-h2load and tls-h2-* need it)"
command -v curl >/dev/null || deselect "*page-*" "curl not found"

resolve_mywebsite_bin
# The site data comes from the real data tool, built with the server (the stand-in has none).
DATA_TOOL=$(dirname "$MYWEBSITE_BIN")/mywebsite-data
[[ -x $DATA_TOOL ]] || deselect "*page-*" "no $DATA_TOOL to build the site data with"

# 5,000 idle clients plus as many server-side sockets: take the whole hard limit, for us and our children.
ulimit -n "$(ulimit -Hn)"
(($(ulimit -n) >= IDLE_CONNS + 100)) || log "fd limit $(ulimit -n) < BENCH_IDLE_CONNS + 100: fewer idle connections"

# --- workspace, results, clean-up ----------------------------------------------------------------------
BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/mywebsite-bench.XXXXXX")
cleanup() {
    bg_stop_all
    if [[ ${BENCH_KEEP_TMP:-0} == 1 ]]; then log "kept $BENCH_TMP"; else rm -rf "$BENCH_TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export TMPDIR=$BENCH_TMP # the stand-in, wrk and python put their temporary files here too

RESULTS=$BENCH_DIR/results/$(date -u +%Y%m%dT%H%M%SZ)
[[ ! -e $RESULTS ]] || RESULTS+="-$$"
mkdir -p "$RESULTS/logs"
STATIC_DIR=$BENCH_TMP/static
python3 "$BENCH_TOOLS_DIR/fixtures.py" make "$STATIC_DIR"

# The site: the sample content built into a data package, and copies of the templates and of web/static
# (next to the fixtures, served by both servers), so that an edit in the checkout during the run cannot
# change the page mywebsite serves (it reloads changed sources). The stylesheet's hash is in the page.
# mywebsite gets these flags in every scenario when the data tool is there; without --data-path it would
# answer 503 for pages, which only page-* request.
SITE_ARGS=() PAGE_URI="" PAGE_FILE=$BENCH_TMP/pages/article.html
if [[ -x $DATA_TOOL ]]; then
    cp -R "$REPO_ROOT/web/static/." "$STATIC_DIR/"
    cp -R "$REPO_ROOT/web/templates" "$BENCH_TMP/templates"
    if "$DATA_TOOL" build "$REPO_ROOT/content" --out "$BENCH_TMP/data" >"$RESULTS/logs/data-build.txt" 2>&1; then
        SITE_ARGS=(--data-path "$BENCH_TMP/data" --templates-path "$BENCH_TMP/templates"
            --site-url http://localhost:8080)
    else
        log "$DATA_TOOL build content failed: $(tail -n 5 "$RESULTS/logs/data-build.txt")"
        deselect "*page-*" "no site data"
    fi
fi
[[ " ${selected[*]} " != *"page-"* ]] || PAGE_URI=$ARTICLE_URI
CERT=$BENCH_TMP/cert.pem KEY=$BENCH_TMP/key.pem
if ((TLS)); then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$KEY" -out "$CERT" \
        -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>"$RESULTS/logs/openssl.stderr" ||
        die "openssl could not make a certificate: $(cat "$RESULTS/logs/openssl.stderr")"
fi

{
    echo "date: $(date -u +%FT%TZ)"
    echo "commit: $(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "mywebsite: $MYWEBSITE_BIN ($(stat -c '%s bytes, modified %y' "$MYWEBSITE_BIN"))"
    echo "nginx: $(nginx -v 2>&1)"
    echo "wrk: $(wrk -v 2>&1 | head -n1)"
    command -v h2load >/dev/null && echo "h2load: $(h2load --version 2>&1 | head -n1)"
    echo "openssl: $(openssl version)"
    echo "kernel: $(uname -r), cpus: $(nproc), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "scenarios: ${selected[*]}"
    echo "duration ${DURATION}s, warm-up ${WARMUP}s, wrk -t$WRK_THREADS -c$CONNECTIONS, handshake -c$HANDSHAKE_CONNECTIONS,"
    echo "server threads/workers $SERVER_THREADS, idle connections $IDLE_CONNS, rounds $ROUNDS, taskset '${BENCH_CPUS:-none}'"
} >"$RESULTS/meta.txt"
cat "$RESULTS/meta.txt" >&2
read -r load1 _ </proc/loadavg
[[ ${load1%%.*} -lt 1 ]] || note "load average $load1 at start: something else is using the CPUs; compare CPU µs/req, not req/s"
[[ $MYWEBSITE_BIN != *standin* ]] || note "the mywebsite column is the stand-in ($MYWEBSITE_BIN), not mywebsite"

# --- measurements -----------------------------------------------------------------------------------------

# cpu_of SERVER MODE: CPU seconds so far of the instance's process tree.
cpu_of() { python3 "$BENCH_TOOLS_DIR/procstat.py" cpu "${SRV_PID[$1:$2]}"; }

# threads_of SERVER MODE: CPU and read/write calls of each thread of the instance's root process (mywebsite's
# event loops are its threads loop-0, loop-1...).
threads_of() { python3 "$BENCH_TOOLS_DIR/procstat.py" threads "${SRV_PID[$1:$2]}" || echo "{}"; }

# run_load SCENARIO SERVER ROUND: warm-up, then one measured wrk (or h2load) run, with the server's CPU time
# read just before and after (and, for mywebsite, each event loop's share). Raw output:
# SCENARIO.SERVER.rROUND.{wrk,h2load,cpu}.txt and, for mywebsite, .loops.json
run_load() {
    local scenario=$1 server=$2 round=$3 mode=plain path conns=$CONNECTIONS cmd=() extra=() tool=wrk
    [[ $scenario == tls-* ]] && mode=tls
    [[ $scenario == *-log && $server == mywebsite ]] && mode+=-log
    case $scenario in
    ceiling-1k)
        path=/static/1k.bin
        if [[ $server == nginx ]]; then path=$NGINX_CEILING_URI; fi
        ;;
    *-1k | tls-handshake*) path=/static/1k.bin ;;
    *-12k | *-12k-log) path=/static/12k.bin ;;
    *-100k) path=/static/100k.bin ;;
    *-1m) path=/static/1m.bin ;;
    *page-article) path=$PAGE_URI ;;
    esac
    if [[ $scenario == tls-handshake* ]]; then
        # One request per connection: a new TCP connection and TLS handshake each time.
        extra=(-H "Connection: close")
        conns=$HANDSHAKE_CONNECTIONS
    fi
    local url base before after status
    url=$(scheme_of "$mode")://127.0.0.1:${SRV_PORT[$server:$mode]}$path
    base=$RESULTS/$scenario.$server.r$round
    if [[ $path == "$PAGE_URI" ]] && ! python3 "$BENCH_TOOLS_DIR/fixtures.py" check "$url" "$PAGE_FILE"; then
        note "$scenario/$server round $round: $PAGE_URI is not the page saved at the start (see the log above)"
    fi
    if [[ $scenario == *-h2load ]]; then
        tool=h2load
        cmd=(h2load --h1 -t "$WRK_THREADS" -c "$conns" -n "$H2LOAD_REQUESTS" "${extra[@]}" "$url")
    elif [[ $scenario == tls-h2-* ]]; then
        # HTTP/2 (ALPN h2) with ten streams in flight per connection, as issue #9 asks.
        tool=h2load
        cmd=(h2load -t "$WRK_THREADS" -c "$conns" -m 10 -n "$H2_REQUESTS" "$url")
    else
        cmd=(wrk -t "$WRK_THREADS" -c "$conns" -d "${DURATION}s" --latency --timeout 5s "${extra[@]}" "$url")
    fi
    if ((WARMUP > 0)) && [[ $tool == wrk ]]; then
        bg_run warm-up /dev/null $((WARMUP + 30)) "${TASKSET[@]}" wrk -t "$WRK_THREADS" -c "$conns" \
            -d "${WARMUP}s" "${extra[@]}" "$url" || log "$scenario/$server: warm-up failed"
    fi
    local threads_before=""
    [[ $server == mywebsite ]] && threads_before=$(threads_of "$server" "$mode")
    before=$(cpu_of "$server" "$mode")
    status=0
    bg_run "$tool" "$base.$tool.txt" $((DURATION + 120)) "${TASKSET[@]}" "${cmd[@]}" || status=$?
    after=$(cpu_of "$server" "$mode")
    if [[ -n $threads_before ]]; then
        printf '{"before": %s, "after": %s}\n' "$threads_before" "$(threads_of "$server" "$mode")" >"$base.loops.json"
    fi
    ((status == 0)) || note "$scenario/$server round $round: $tool exit status $status; see $(basename "$base").$tool.txt"
    echo "$before $after" >"$base.cpu.txt"
    log "$scenario/$server r$round: $(grep -hE 'Requests/sec|req/s' "$base.$tool.txt" | head -n1 | tr -s ' ')"
    server_alive "$server" "$mode" || true
}

# run_idle SCENARIO SERVER ROUND: fresh server, then idle_conns.py. Raw output: SCENARIO.SERVER.rROUND.idle.json
run_idle() {
    local scenario=$1 server=$2 round=$3 mode=plain how=request flags=()
    [[ $scenario == tls-* ]] && mode=tls flags=(--tls)
    [[ $scenario == *-connect ]] && how=connect
    server_restart "$server" "$mode"
    bg_run idle_conns "$RESULTS/logs/$scenario.$server.r$round.idle.txt" 600 \
        python3 "$BENCH_TOOLS_DIR/idle_conns.py" --port "${SRV_PORT[$server:$mode]}" --pid "${SRV_PID[$server:$mode]}" \
        --count "$IDLE_CONNS" --mode "$how" "${flags[@]}" --out "$RESULTS/$scenario.$server.r$round.idle.json" ||
        note "$scenario/$server round $round: idle_conns.py failed; see logs/$scenario.$server.r$round.idle.txt"
    log "$scenario/$server r$round: $(tail -n1 "$RESULTS/logs/$scenario.$server.r$round.idle.txt")"
    server_alive "$server" "$mode" || true
}

modes=()
[[ " ${selected[*]} " =~ \ (get|ceiling|idle|page)- ]] && modes+=(plain)
[[ " ${selected[*]} " == *" tls-"* ]] && modes+=(tls)
for mode in "${modes[@]}"; do
    server_start mywebsite "$mode" # first: nginx serves the page this start saves
    server_start nginx "$mode"
    for scenario in "${selected[@]}"; do
        [[ $scenario == *-log ]] || continue
        if [[ $mode == tls && $scenario == tls-* ]] || [[ $mode == plain && $scenario != tls-* ]]; then
            server_start mywebsite "$mode-log" # the access log on
            break
        fi
    done
    if [[ $mode == tls ]]; then
        for server in nginx mywebsite; do
            if [[ $(python3 "$BENCH_TOOLS_DIR/fixtures.py" resumes "${SRV_PORT[$server:tls]}" /static/1k.bin) == yes ]]; then
                note "$server resumes TLS sessions: wrk and h2load then measure resumed, not full, handshakes for it"
            fi
        done
    fi
done

for ((round = 1; round <= ROUNDS; round++)); do
    index=0
    for scenario in "${selected[@]}"; do
        index=$((index + 1))
        order=(nginx mywebsite)
        (((index + round) % 2)) || order=(mywebsite nginx)
        for server in "${order[@]}"; do
            if [[ $scenario == *idle-* ]]; then
                run_idle "$scenario" "$server" "$round"
            else
                run_load "$scenario" "$server" "$round"
            fi
            sleep 1 # let closing connections drain before the next run
        done
    done
done

for key in "${!SRV_PID[@]}"; do server_stop "${key%%:*}" "${key#*:}"; done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS/meta.txt"
echo
python3 "$BENCH_TOOLS_DIR/report.py" "$RESULTS"
echo
echo "raw outputs: $RESULTS"
