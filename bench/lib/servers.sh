# shellcheck shell=bash
# Starting and stopping the two servers under test. Sourced by run.sh after lib/common.sh and lib/nginx.sh.
#
# An instance is SERVER:MODE with SERVER nginx|mywebsite and MODE plain (HTTP; mywebsite behind-proxy)
# or tls (HTTPS only; mywebsite direct-tls); mywebsite also runs as plain-log and tls-log, the same with its
# access log on (to standard output, kept in BENCH_TMP: a 10 s run writes tens of megabytes). Uses run.sh's globals: BENCH_TMP, RESULTS, STATIC_DIR,
# CERT, KEY, MYWEBSITE_BIN, MYWEBSITE_EXTRA (array), SERVER_THREADS, TASKSET (array, maybe empty), and for
# the article page SITE_ARGS (array: mywebsite's --data-path etc., empty without site data), PAGE_URI
# (empty: no page scenario) and PAGE_FILE (the page's body as mywebsite served it, saved once).

# shellcheck disable=SC2034 # SRV_PORT is read by run.sh
declare -gA SRV_PID=() SRV_PORT=() SRV_TAG=()
SRV_SEQ=0

# note TEXT: a caveat found during the run; logged now and listed under the summary tables.
note() {
    log "note: $*"
    printf '%s\n' "$*" >>"$RESULTS/notes.txt"
}

# scheme_of MODE: http or https.
scheme_of() { if [[ $1 == tls* ]]; then echo https; else echo http; fi; }

# server_start SERVER MODE: starts the instance, waits until it accepts connections, checks that it serves
# every fixture byte for byte, and records SRV_PID/SRV_PORT/SRV_TAG[SERVER:MODE]. Dies on failure.
# With PAGE_URI set, mywebsite's first start saves the page to PAGE_FILE (page_save), and every start of
# either server checks that it serves PAGE_FILE's bytes at PAGE_URI once that file exists.
server_start() {
    local server=$1 mode=$2 scheme tag out err port line file args=() access_log=off
    scheme=$(scheme_of "$mode")
    SRV_SEQ=$((SRV_SEQ + 1))
    tag="$server-$mode-$SRV_SEQ"
    out=$RESULTS/logs/$tag.stdout
    if [[ $mode == *-log ]]; then
        access_log=on
        out=$BENCH_TMP/$tag.stdout
    fi
    err=$RESULTS/logs/$tag.stderr
    if [[ $server == nginx ]]; then
        local prefix=$BENCH_TMP/$tag
        mkdir -p "$prefix"
        port=$(free_port)
        if [[ $mode == tls ]]; then
            nginx_write_conf "$prefix/nginx.conf" "$prefix" "$STATIC_DIR" "$SERVER_THREADS" 0 "$port" "$CERT" "$KEY" \
                "$PAGE_URI" "$PAGE_FILE"
        else
            nginx_write_conf "$prefix/nginx.conf" "$prefix" "$STATIC_DIR" "$SERVER_THREADS" "$port" "" "" "" \
                "$PAGE_URI" "$PAGE_FILE"
        fi
        cp "$prefix/nginx.conf" "$RESULTS/logs/$tag.nginx.conf"
        nginx_command "$prefix/nginx.conf" "$prefix"
        bg_start "$tag" "$out" "$err" "${TASKSET[@]}" "${NGINX_CMD[@]}"
    else
        args=(serve --host 127.0.0.1 --threads "$SERVER_THREADS" --static-path "$STATIC_DIR" --access-log "$access_log"
            "${SITE_ARGS[@]}")
        if [[ $mode == tls* ]]; then
            args+=(--mode direct-tls --https-port 0 --http-port 0 --cert "$CERT" --key "$KEY" --tls-profile intermediate)
        else
            args+=(--mode behind-proxy --port 0)
        fi
        echo "$MYWEBSITE_BIN ${args[*]} ${MYWEBSITE_EXTRA[*]}" >"$RESULTS/logs/$tag.cmdline"
        bg_start "$tag" "$out" "$err" "${TASKSET[@]}" "$MYWEBSITE_BIN" "${args[@]}" "${MYWEBSITE_EXTRA[@]}"
        line=$(wait_for_line "$out" "^listening: $scheme://127\\.0\\.0\\.1:[0-9]+" 60 "$BG_PID") ||
            server_failed "$tag" "printed no 'listening: $scheme://127.0.0.1:PORT' line within 60 s"
        [[ $line =~ :([0-9]+)[[:space:]]*$ ]] || server_failed "$tag" "cannot read the port in '$line'"
        port=${BASH_REMATCH[1]}
    fi
    wait_for_port "$port" 30 "$BG_PID" || server_failed "$tag" "127.0.0.1:$port accepted no connection within 30 s"
    SRV_PID[$server:$mode]=$BG_PID
    SRV_PORT[$server:$mode]=$port
    SRV_TAG[$server:$mode]=$tag
    for file in "$STATIC_DIR"/*.bin; do
        python3 "$BENCH_TOOLS_DIR/fixtures.py" check "$scheme://127.0.0.1:$port/static/${file##*/}" "$file" ||
            server_failed "$tag" "wrong response for /static/${file##*/} (see above)"
    done
    if [[ -n $PAGE_URI ]]; then
        [[ $server != mywebsite || -s $PAGE_FILE ]] || page_save "$tag" "$scheme://127.0.0.1:$port$PAGE_URI"
        if [[ -s $PAGE_FILE ]]; then
            python3 "$BENCH_TOOLS_DIR/fixtures.py" check "$scheme://127.0.0.1:$port$PAGE_URI" "$PAGE_FILE" \
                "$RESULTS/logs/$tag.page-head.txt" || server_failed "$tag" "wrong response for $PAGE_URI (see above)"
        fi
    fi
    log "$tag: pid $BG_PID, $scheme://127.0.0.1:$port"
}

# page_save TAG URL: saves the body mywebsite (instance TAG) serves at URL to PAGE_FILE, the file nginx then
# serves. curl sends no Accept-Encoding, so the body is the uncompressed page, as wrk will get it.
page_save() {
    local tag=$1 url=$2
    mkdir -p "$(dirname "$PAGE_FILE")"
    curl -sS --fail --http1.1 --insecure --max-time 10 -D "$RESULTS/logs/page.curl-head.txt" -o "$PAGE_FILE.part" \
        "$url" 2>"$RESULTS/logs/page.curl.stderr" ||
        server_failed "$tag" "curl $url failed: $(cat "$RESULTS/logs/page.curl.stderr")"
    [[ -s $PAGE_FILE.part ]] || server_failed "$tag" "$url returned an empty body"
    mv "$PAGE_FILE.part" "$PAGE_FILE"
    cp "$PAGE_FILE" "$RESULTS/logs/page.html"
    log "$tag: saved $PAGE_URI ($(stat -c %s "$PAGE_FILE") bytes) for nginx"
}

# server_failed TAG WHY: shows the instance's stderr and dies (the EXIT trap stops it).
server_failed() {
    log "$1: $2"
    tail -n 20 "$RESULTS/logs/$1.stderr" >&2 2>/dev/null || true
    die "$1 did not start; logs in $RESULTS/logs/"
}

# server_stop SERVER MODE: SIGTERM and wait; notes a mywebsite that does not exit 0 (its contract), and
# keeps nginx's error log.
server_stop() {
    local key=$1:$2 tag
    [[ -n ${SRV_PID[$key]:-} ]] || return 0
    tag=${SRV_TAG[$key]}
    bg_stop "${SRV_PID[$key]}"
    if [[ $1 == mywebsite && $BG_STATUS != 0 ]]; then
        note "$tag exited with status $BG_STATUS after SIGTERM (expected 0); see logs/$tag.stderr"
    fi
    if [[ $1 == nginx ]]; then cp "$BENCH_TMP/$tag/error.log" "$RESULTS/logs/$tag.error.log" 2>/dev/null || true; fi
    unset "SRV_PID[$key]" "SRV_PORT[$key]" "SRV_TAG[$key]"
}

# server_alive SERVER MODE: true while the instance runs; otherwise notes the crash and restarts it.
server_alive() {
    local key=$1:$2
    proc_running "${SRV_PID[$key]}" && return 0
    note "${SRV_TAG[$key]} was not running after a measurement (crashed?); restarted. See logs/${SRV_TAG[$key]}.stderr"
    server_stop "$1" "$2"
    server_start "$1" "$2"
    return 1
}

# server_restart SERVER MODE: a fresh process, so memory figures do not depend on earlier scenarios.
server_restart() {
    server_stop "$1" "$2"
    server_start "$1" "$2"
}
