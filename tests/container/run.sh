#!/usr/bin/env bash
# Container tests (issue #5): builds the image from the release binary (the Dockerfile's runtime-prebuilt
# target, as CI does) and checks the image, a container of it, the compose stack behind nginx, and the
# direct-tls override, with podman and podman-compose. Offline: the base images are made locally
# (base-images.sh). Runs as root; installs what it needs (setup.sh). See README.md beside this file.
#
#   tests/container/run.sh                 everything (prints the time each phase took)
#   tests/container/run.sh --clean-cache   also remove the base images (kept between runs) afterwards
#
# Environment: MYWEBSITE_CT_BIN_DIR=DIR  use DIR/mywebsite and DIR/mywebsite-data (a release build with
#              --static-swift-stdlib) instead of building them in .build-image/
#              MYWEBSITE_CT_KEEP=1       leave the containers, networks, image and files in place on failure
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh"

clean_cache=0
for arg in "$@"; do
    case "$arg" in
        --clean-cache) clean_cache=1 ;;
        -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) fail "unknown argument $arg (see --help)" ;;
    esac
done
[ "$(id -u)" -eq 0 ] || fail "run as root (rootful podman)"

IMAGE="localhost/$PREFIX:test"
UPDATE_IMAGE="localhost/$PREFIX:update"               # the same with one more label: the rolling update's target
STAGE_IMAGE="localhost/$PREFIX-package-stage:test"   # the Dockerfile's package-prebuilt stage, named for clean-up
SWIFT_STUB="localhost/$PREFIX-swift-stub:test"        # stands in for the Swift image (swift-stub.Dockerfile)
SOURCE_IMAGE="localhost/$PREFIX-source:test"          # the default target, built with the stand-in
SINGLE="$PREFIX-single"        # one container: user, read-only root, health, drain
CRASH="$PREFIX-crash"          # restart policy after the server is killed
WATCHDOG="$PREFIX-watchdog"    # restart policy after the watchdog's exit
STACK="$PREFIX-stack"          # compose project behind nginx
DIRECT="$PREFIX-direct"        # compose project with the direct-tls override
work="$(mktemp -d "/var/tmp/$PREFIX.XXXXXX")"
chmod 0755 "$work"
started=$SECONDS
PASSED=0

# ---------------------------------------------------------------------------------------------------------------
# Phases and their timings

phase_names=()
phase_times=()
phase_name=""
phase_start=$SECONDS
end_phase() {
    if [ -n "$phase_name" ]; then
        phase_names+=("$phase_name")
        phase_times+=($((SECONDS - phase_start)))
    fi
    phase_name=""
}
phase() {
    end_phase
    phase_name="$*"
    phase_start=$SECONDS
    printf '\n== %s\n' "$*"
}
print_timings() {
    end_phase
    printf '\n== timings\n'
    local i
    for i in "${!phase_names[@]}"; do
        printf '%5ss  %s\n' "${phase_times[$i]}" "${phase_names[$i]}"
    done
    printf '%5ss  total\n' "$((SECONDS - started))"
}

# podman and podman-compose, without the noise of a machine with no systemd (healthcheck timers, syslog).
quiet() {
    "$@" 2> >(grep -v -e 'unable to get systemd connection' -e 'failed to connect to syslog' \
        -e 'Truncation Annotation' >&2)
}
compose() {
    local project="$1"
    shift
    timeout 180 "$repo/.venv-container/bin/podman-compose" -p "$project" "$@" >>"$work/compose-$project.log" 2>&1 ||
        { tail -30 "$work/compose-$project.log" >&2; fail "podman-compose -p $project $* failed"; }
}

# ---------------------------------------------------------------------------------------------------------------
# Clean-up: only what this script made, by name.

remove_project() {
    local project="$1" ids
    ids="$(podman ps -a -q --filter "label=io.podman.compose.project=$project")"
    # shellcheck disable=SC2086 # IDs, one word each
    if [ -n "$ids" ]; then quiet podman rm -f -t 5 $ids >/dev/null || true; fi
    if podman pod exists "pod_$project" 2>/dev/null; then quiet podman pod rm -f "pod_$project" >/dev/null || true; fi
    local network
    for network in frontend backend; do
        if podman network exists "${project}_$network" 2>/dev/null; then
            podman network rm -f "${project}_$network" >/dev/null || true
        fi
    done
    local volume
    for volume in prometheus-data grafana-data acme-state; do
        podman volume rm -f "${project}_$volume" >/dev/null 2>&1 || true
    done
}
# The images this run built, and the build steps they were made of that this run created: podman keeps each step
# of a build as an untagged image. The steps of a stage form a chain of parents (a chain stops at a stage's start),
# so clean-up walks back from the images it named and from those carrying this run's version label, and stops at
# the first step older than the run (another build's).
built_since="$(date +%s)"
version="test-$built_since-$$"
built_ids=()
declare -A built_seen=()
walk_built_here() {
    local id created
    id="$(podman image inspect --format '{{.Id}}' "$1" 2>/dev/null)" || return 0
    while [ -n "$id" ] && [ -z "${built_seen[$id]:-}" ] &&
        created="$(podman image inspect --format '{{.Created.Unix}}' "$id" 2>/dev/null)"; do
        [ "$created" -ge "$built_since" ] || break
        built_seen[$id]=1
        built_ids+=("$id")
        id="$(podman image inspect --format '{{.Parent}}' "$id")"
    done
}
remove_built_images() {
    local image
    # shellcheck disable=SC2046 # IDs, one word each
    for image in "$IMAGE" "$STAGE_IMAGE" \
        $(podman images -a -q --no-trunc --filter "label=org.opencontainers.image.version=$version"); do
        walk_built_here "$image"
    done
    for image in "$UPDATE_IMAGE" "$IMAGE" "$STAGE_IMAGE" "$SOURCE_IMAGE" "$SWIFT_STUB"; do
        if podman image exists "$image" 2>/dev/null; then quiet podman rmi "$image" >/dev/null; fi
    done
    # Each walk lists an image before its parent; podman removes what it can and names what it cannot (a parent
    # listed before its child by another walk): a second pass takes those.
    if [ "${#built_ids[@]}" -gt 0 ]; then
        podman rmi "${built_ids[@]}" >/dev/null 2>&1 || podman rmi "${built_ids[@]}" >/dev/null 2>&1 || true
    fi
}
cleanup() {
    local status=$?
    set +e
    phase "clean-up"
    if [ "$status" -ne 0 ] && [ "${MYWEBSITE_CT_KEEP:-0}" = 1 ]; then
        echo "MYWEBSITE_CT_KEEP=1: left $SINGLE $CRASH $WATCHDOG, projects $STACK $DIRECT, image $IMAGE, $work"
        print_timings
        return
    fi
    for name in "$SINGLE" "$CRASH" "$WATCHDOG" "$PREFIX-probe" "$PREFIX-load"; do
        podman container exists "$name" 2>/dev/null && quiet podman rm -f -t 5 "$name" >/dev/null
    done
    remove_project "$STACK"
    remove_project "$DIRECT"
    remove_built_images
    if [ "$clean_cache" = 1 ]; then
        # The base images, and any build step made from them or from this Dockerfile left by an interrupted run.
        local ids
        ids="$( (podman images -a -q --filter "label=$BASE_LABEL"
            podman images -a -q --filter "label=org.opencontainers.image.title=mywebsite" --filter dangling=true) |
            sort -u)"
        # shellcheck disable=SC2086 # IDs, one word each
        [ -z "$ids" ] || quiet podman rmi -f $ids >/dev/null
        echo "removed the cached base images and build layers"
    fi
    rm -rf "$work"
    print_timings
    if [ "$status" -eq 0 ]; then
        printf '\ncontainer tests: %s passed, 0 failed\n' "$PASSED"
    else
        printf '\ncontainer tests: FAILED (exit %s) after %s checks passed\n' "$status" "$PASSED" >&2
    fi
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------------------------
phase "set-up: packages, podman settings, linters"
"$here/setup.sh"
export PATH="$repo/.venv-container/bin:$PATH"
podman --version
podman-compose version 2>/dev/null | tail -1

# ---------------------------------------------------------------------------------------------------------------
phase "lint: hadolint, yamllint, shellcheck, checkov"
hadolint Dockerfile "$here/nginx.Dockerfile" "$here/swift-stub.Dockerfile" "$here/prometheus.Dockerfile"
ok "hadolint: Dockerfile, tests/container/nginx.Dockerfile, swift-stub.Dockerfile, prometheus.Dockerfile"
yamllint --strict -c "$here/yamllint.yml" compose.yml compose.direct-tls.yml
ok "yamllint: compose.yml, compose.direct-tls.yml"
shellcheck -x "$here"/*.sh
ok "shellcheck: tests/container/*.sh"
checkov_run() {
    checkov --quiet --compact --skip-download --output cli "$@" >"$work/checkov.log" 2>&1 ||
        { cat "$work/checkov.log" >&2; fail "checkov $*"; }
    grep -E 'Passed checks|Failed checks' "$work/checkov.log" | sed 's/^/    /'
}
checkov_run --framework dockerfile -f Dockerfile -f "$here/nginx.Dockerfile" -f "$here/swift-stub.Dockerfile" \
    -f "$here/prometheus.Dockerfile"
ok "checkov (dockerfile): Dockerfile, nginx.Dockerfile, swift-stub.Dockerfile, prometheus.Dockerfile"
# Checkov has no Compose framework: compose_checks.py holds this repository's checks of Compose services,
# run on compose.yml and on compose.yml merged with the direct-tls override (what `up` would run).
podman-compose -f compose.yml -f compose.direct-tls.yml config >"$work/compose.direct-tls.merged.yml" 2>/dev/null
checkov_run --framework yaml secrets --external-checks-dir "$here/checkov" \
    -f compose.yml -f "$work/compose.direct-tls.merged.yml"
ok "checkov (Compose checks CKV_MYW_1-10, secrets): compose.yml, compose.yml + compose.direct-tls.yml"

# ---------------------------------------------------------------------------------------------------------------
phase "base images (made once, then reused)"
"$here/base-images.sh"
podman images --filter "label=$BASE_LABEL" --filter dangling=false --format '    {{.Repository}}:{{.Tag}} {{.Size}}'

# ---------------------------------------------------------------------------------------------------------------
phase "release binaries, package.tgz, data package"
if [ -n "${MYWEBSITE_CT_BIN_DIR:-}" ]; then
    bin="$MYWEBSITE_CT_BIN_DIR"
else
    swift build -c release --static-swift-stdlib --scratch-path .build-image 2>&1 | tail -1
    bin="$(swift build -c release --static-swift-stdlib --scratch-path .build-image --show-bin-path)"
fi
{ [ -x "$bin/mywebsite" ] && [ -x "$bin/mywebsite-data" ]; } || fail "no mywebsite and mywebsite-data in $bin"
mkdir -p "$work/context"
if [ -f ci/package.sh ]; then
    sh ci/package.sh "$bin/mywebsite" "$work/context/package.tgz"
else
    # The same layout as ci/package.sh: bin/mywebsite, web/static/, web/templates/.
    mkdir -p "$work/package/bin" "$work/package/web"
    cp "$bin/mywebsite" "$work/package/bin/"
    cp -R web/static web/templates "$work/package/web/"
    tar -czf "$work/context/package.tgz" -C "$work/package" bin web
fi
# The data directory the containers mount read-only; the package is in site/ inside it (compose.yml).
mkdir -p "$work/data" "$work/logs"
"$bin/mywebsite-data" build content --out "$work/data/site"
# The service user (UID 1000 in the image) writes the logs; the mounted directories must let it.
chown 1000:1000 "$work/logs"
# A large file for the drain test, in a copy of the package that only the single container mounts.
cp -a "$work/data" "$work/data-single"
head -c 48M /dev/urandom >"$work/data-single/site/articles/images/drain.bin"

# ---------------------------------------------------------------------------------------------------------------
phase "image: build (target runtime-prebuilt), size and layers"
# The context holds package.tgz only: the runtime-prebuilt stages read nothing else.
build_args=(--build-arg "VERSION=$version" --build-arg "REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)"
    --build-arg SOURCE="file://$repo")
quiet podman build --pull=never --format docker --target runtime-prebuilt "${build_args[@]}" -t "$IMAGE" \
    -f Dockerfile "$work/context" >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; fail "podman build"; }
# A name for the stage that unpacked package.tgz (all cached: instant), so that clean-up finds its layers.
quiet podman build --pull=never --format docker --target package-prebuilt "${build_args[@]}" -t "$STAGE_IMAGE" \
    -f Dockerfile "$work/context" >>"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; fail "podman build"; }
podman images "$IMAGE" --format '    {{.Repository}}:{{.Tag}}  {{.Size}}  (uncompressed, as podman images shows it)'
echo "    layers (newest first):"
podman history "$IMAGE" --format '{{.Size}}\t{{.CreatedBy}}' | awk -F'\t' '$1 != "0 B" || NR <= 1' |
    sed -e 's/^/      /' -e 's|/bin/sh -c #(nop) ||' | cut -c1-110
size="$(podman image inspect --format '{{.Size}}' "$IMAGE")"
[ "$size" -lt 30000000 ] || fail "the image is $size bytes, over the 30 MB target"
ok "image size $size bytes < 30 MB"
config() { podman image inspect --format "$1" "$IMAGE"; }
[ "$(config '{{.Config.User}}')" = "1000:1000" ] || fail "image user is '$(config '{{.Config.User}}')'"
[ "$(config '{{json .Config.Entrypoint}}')" = '["mywebsite"]' ] ||
    fail "entrypoint $(config '{{json .Config.Entrypoint}}')"
[ "$(config '{{json .Config.Cmd}}')" = '["serve"]' ] || fail "cmd $(config '{{json .Config.Cmd}}')"
[ "$(config '{{json .Config.Healthcheck.Test}}')" = '["CMD","mywebsite","healthcheck"]' ] ||
    fail "healthcheck $(config '{{json .Config.Healthcheck}}')"
[ "$(config '{{index .Config.Labels "org.opencontainers.image.version"}}')" = "$version" ] || fail "OCI version label"
[ "$(config '{{.Config.WorkingDir}}')" = /app ] || fail "working directory"
ok "image config: user 1000:1000, ENTRYPOINT mywebsite, CMD serve, HEALTHCHECK, OCI labels, WORKDIR /app"
# Nothing but the server: no shell, no package manager, no curl.
files="$(podman image mount "$IMAGE")"
for absent in bin/sh usr/bin/apt-get usr/bin/dpkg usr/bin/curl usr/bin/wget busybox; do
    [ ! -e "$files/$absent" ] || fail "the image contains /$absent"
done
podman image unmount "$IMAGE" >/dev/null
if quiet podman run --rm --entrypoint /bin/sh "$IMAGE" -c true >/dev/null 2>&1; then fail "a shell ran in the image"; fi
ok "the image has no shell, package manager, curl or wget"

# ---------------------------------------------------------------------------------------------------------------
phase "image: default target runtime (from source), with a stand-in for the Swift toolchain"
# No Swift image can be pulled here: swift-stub.sh answers the build stage's `swift` commands with the binary
# built above. This checks the build-from-source path around the compiler: the context .dockerignore leaves
# (from the repository root), the stages, and that the result matches runtime-prebuilt's.
mkdir -p "$work/stub"
cp "$here/swift-stub.sh" "$bin/mywebsite" "$work/stub/"
quiet podman build --pull=never --format docker --layers=false -t "$SWIFT_STUB" -f "$here/swift-stub.Dockerfile" \
    "$work/stub" >"$work/build-source.log" 2>&1 || { tail -40 "$work/build-source.log" >&2; fail "swift stub image"; }
quiet podman build --pull=never --format docker --layers=false --build-arg "SWIFT_IMAGE=$SWIFT_STUB" \
    "${build_args[@]}" -t "$SOURCE_IMAGE" -f Dockerfile . >>"$work/build-source.log" 2>&1 ||
    { tail -40 "$work/build-source.log" >&2; fail "podman build (target runtime)"; }
grep -q 'swift-stub: swift build -c release --static-swift-stdlib --product mywebsite' "$work/build-source.log" ||
    fail "the build stage did not build"
for field in '{{.Config.User}}' '{{json .Config.Entrypoint}}' '{{json .Config.Cmd}}' '{{json .Config.Healthcheck}}' \
    '{{json .Config.Env}}'; do
    [ "$(podman image inspect --format "$field" "$SOURCE_IMAGE")" = "$(config "$field")" ] ||
        fail "runtime and runtime-prebuilt differ in $field"
done
source_size="$(podman image inspect --format '{{.Size}}' "$SOURCE_IMAGE")"
[ "$source_size" -lt 30000000 ] || fail "target runtime: $source_size bytes"
ok "target runtime (stand-in compiler): built from the repository, configured as runtime-prebuilt ($source_size bytes)"
quiet podman rmi "$SOURCE_IMAGE" "$SWIFT_STUB" >/dev/null

# ---------------------------------------------------------------------------------------------------------------
phase "container: non-root, read-only root, no capabilities, healthy, stop drains"
port="$(free_port)"
quiet podman run -d --name "$SINGLE" --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
    -p "127.0.0.1:$port:8080" -v "$work/data-single:/app/data:ro" -e DATA_PATH=/app/data/site \
    -e SHUTDOWN_TIMEOUT=30 "$IMAGE" >/dev/null
wait_until 30 "$SINGLE to answer on 127.0.0.1:$port" curl -fsS "http://127.0.0.1:$port/healthz"
pid="$(podman inspect --format '{{.State.Pid}}' "$SINGLE")"
# Read from the host: the image has no shell to ask from inside.
[ "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" = 1000 ] || fail "the server does not run as UID 1000"
[ "$(awk '/^Gid:/ { print $2 }' "/proc/$pid/status")" = 1000 ] || fail "the server does not run as GID 1000"
[ "$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")" = 0000000000000000 ] || fail "the server has capabilities"
[ "$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$pid/status")" = 1 ] || fail "no_new_privs is not set"
[ "$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")" = 1 ] || fail "the server is not PID 1 of its container"
awk '$5 == "/" { print $6 }' "/proc/$pid/mountinfo" | grep '^ro' >/dev/null || fail "the root filesystem is writable"
ok "server is PID 1 of its container as UID/GID 1000, no capabilities, no_new_privs, root filesystem read-only"
wait_until 30 "$SINGLE healthy" is_healthy "$SINGLE"
ok "healthcheck (mywebsite healthcheck) reports healthy"
curl -fsS "http://127.0.0.1:$port/en/" | grep '<html' >/dev/null || fail "GET /en/ gives no page"
ok "serves the site"
# A download in progress when the stop arrives finishes, then the server exits 0. The client stays slow to the
# end: the server must not exit before the client has acknowledged the bytes queued in its socket, which would
# go with the container's network namespace (lingering close, README "Signals").
drain_url="http://127.0.0.1:$port/static/images/articles/drain.bin"
python3 "$here/slow_client.py" "$drain_url" "$work/drain.go" "$work/drain.bin" &
download=$!
sleep 1
stop_started=$SECONDS
quiet podman stop -t 40 "$SINGLE" >/dev/null &
stopping=$!
sigterm_logged() { quiet podman logs "$SINGLE" 2>&1 | grep 'SIGTERM: shutting down' >/dev/null; }
wait_until 10 "the server to log SIGTERM" sigterm_logged
kill -0 "$download" 2>/dev/null || fail "the download ended before the stop"
wait "$download" || fail "the download in progress during the stop failed"
wait "$stopping" || fail "podman stop failed"
stop_took=$((SECONDS - stop_started))
cmp -s "$work/drain.bin" "$work/data-single/site/articles/images/drain.bin" || fail "the drained download differs"
[ "$(podman inspect --format '{{.State.ExitCode}}' "$SINGLE")" = 0 ] ||
    fail "exit code after stop: $(podman inspect --format '{{.State.ExitCode}}' "$SINGLE")"
ok "podman stop: SIGTERM while a 48 MB download was in progress; it completed, then exit code 0 (${stop_took}s)"
quiet podman rm "$SINGLE" >/dev/null

# ---------------------------------------------------------------------------------------------------------------
phase "restart policy: a killed server comes back"
quiet podman run -d --name "$CRASH" --restart always --read-only --tmpfs /tmp --cap-drop ALL \
    --security-opt no-new-privileges -v "$work/data:/app/data:ro" -e DATA_PATH=/app/data/site "$IMAGE" >/dev/null
wait_until 30 "$CRASH healthy" is_healthy "$CRASH"
pid="$(podman inspect --format '{{.State.Pid}}' "$CRASH")"
# SIGKILL from outside, as the OOM killer or a crash would end it. (`podman kill` would count as a stop by the
# user, after which no restart policy restarts a container, in podman as in Docker.)
kill -KILL "$pid"
restarted() { [ "$(podman inspect --format '{{.RestartCount}}' "$CRASH")" -ge 1 ]; }
wait_until 30 "$CRASH restarted" restarted
wait_until 30 "$CRASH healthy again" is_healthy "$CRASH"
[ "$(podman inspect --format '{{.State.Pid}}' "$CRASH")" != "$pid" ] || fail "same process after the restart"
ok "kill -9 of the server: the restart policy restarted it, healthy again"
quiet podman rm -f "$CRASH" >/dev/null

# ---------------------------------------------------------------------------------------------------------------
phase "watchdog: a stalled loop exits 70 and the container comes back"
# MYWEBSITE_FAULT_STALL_LOOP_AFTER=2 stalls event loop 0 two seconds after start (a test hook of the server);
# with WATCHDOG_TIMEOUT=3 the watchdog ends the process with exit code 70 about 5 s after start.
since="$(date --iso-8601=seconds)"
quiet podman run -d --name "$WATCHDOG" --restart always --read-only --tmpfs /tmp --cap-drop ALL \
    --security-opt no-new-privileges -v "$work/data:/app/data:ro" -e DATA_PATH=/app/data/site \
    -e WATCHDOG_TIMEOUT=3 -e MYWEBSITE_FAULT_STALL_LOOP_AFTER=2 "$IMAGE" >/dev/null
watchdog_start=$SECONDS
died_with_70() {
    podman events --stream=false --since "$since" --filter "container=$WATCHDOG" --filter event=died \
        --format '{{.ContainerExitCode}}' 2>/dev/null | grep -x 70 >/dev/null
}
wait_until 20 "$WATCHDOG to exit 70" died_with_70
exit_after=$((SECONDS - watchdog_start))
quiet podman logs "$WATCHDOG" 2>&1 | grep 'watchdog: loop 0 has not turned' >/dev/null ||
    fail "no watchdog line in the log"
watchdog_restarted() { [ "$(podman inspect --format '{{.RestartCount}}' "$WATCHDOG")" -ge 1 ]; }
wait_until 20 "$WATCHDOG restarted" watchdog_restarted
# Healthy again after the restart (until the hook stalls the new process too, two seconds in).
wait_until 20 "$WATCHDOG healthy after its restart" is_healthy "$WATCHDOG"
ok "watchdog: exit code 70 ${exit_after}s after start, restarted by the restart policy, healthy again"
quiet podman rm -f "$WATCHDOG" >/dev/null

# ---------------------------------------------------------------------------------------------------------------
phase "compose stack: nginx in front, TLS, sealed network, logs, hot reload"
# Certificates from the repository's script; nginx gets server.crt and server.key only, the key readable by
# its group (GID 101, the user nginx runs as).
certs/generate.sh --out "$work/ca" >/dev/null
mkdir -p "$work/certs-nginx"
cp "$work/ca/server.crt" "$work/ca/server.key" "$work/certs-nginx/"
chgrp 101 "$work/certs-nginx/server.key"
chmod 0640 "$work/certs-nginx/server.key"
https_port="$(free_port)"
http_port="$(free_port)"
export MYWEBSITE_IMAGE="$IMAGE" MYWEBSITE_DATA_DIR="$work/data" MYWEBSITE_LOG_DIR="$work/logs" \
    MYWEBSITE_CERTS_DIR="$work/certs-nginx" MYWEBSITE_BIND_ADDRESS=127.0.0.1 MYWEBSITE_HTTPS_PORT="$https_port" \
    MYWEBSITE_HTTP_PORT="$http_port" MYWEBSITE_SITE_URL="https://localhost:$https_port"
compose "$STACK" -f compose.yml up -d
web="${STACK}_mywebsite_1"
web2="${STACK}_mywebsite-2_1"
proxy="${STACK}_reverse_proxy_1"
wait_until 60 "$web healthy" is_healthy "$web"
wait_until 60 "$web2 healthy" is_healthy "$web2"
ok "compose up: both mywebsite replicas healthy"
site="https://localhost:$https_port"
wait_until 30 "nginx to answer on $site" curl -fsS --cacert "$work/ca/ca.crt" -o /dev/null "$site/en/"
wait_until 30 "$proxy healthy" is_healthy "$proxy"
curl -fsS --cacert "$work/ca/ca.crt" -o "$work/home.html" -D "$work/home.headers" "$site/en/"
grep -q 'Notes from the server room' "$work/home.html" || fail "the home page through nginx is not the site's"
grep -qi '^strict-transport-security: max-age=31536000' "$work/home.headers" || fail "no HSTS header"
status="$(curl -sS --cacert "$work/ca/ca.crt" -o /dev/null -w '%{http_code} %{redirect_url}' "$site/")"
[ "${status%% *}" = 302 ] || fail "GET / through nginx: $status"
ok "curl --cacert ca.crt $site/en/: the site over TLS through nginx (HSTS), / redirects to a language"
redirect="$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$http_port/en/?q=1")"
[ "$redirect" = "301 https://127.0.0.1/en/?q=1" ] || fail "HTTP port: $redirect"
ok "plain HTTP: 301 to https://…/en/?q=1"
# 8080 is published nowhere: no port mapping, and the host's addresses do not answer on it.
[ -z "$(podman port "$web")" ] || fail "mywebsite publishes ports: $(podman port "$web")"
if ! ss -Htln 'sport = :8080' | grep . >/dev/null; then
    for address in 127.0.0.1 $(hostname -I 2>/dev/null | tr ' ' '\n' | grep -v ':'); do
        if curl -s -m 3 -o /dev/null "http://$address:8080/healthz"; then fail "mywebsite answers on $address:8080"; fi
    done
fi
# …but the internal network it shares with nginx reaches it, by name.
probe="$(quiet podman run --rm --name "$PREFIX-probe" --network "${STACK}_backend" "localhost/$PREFIX-busybox" \
    busybox wget -q -O - http://mywebsite:8080/healthz)"
[ -n "$probe" ] || fail "mywebsite:8080 is not reachable on the backend network"
ok "port 8080: not published on the host, reachable as mywebsite:8080 on the backend network"
# Sealed: the app container is on the internal network only; nginx alone is also on the published one; from the
# internal network nothing outside answers.
networks_of() { podman inspect --format '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}' "$1"; }
for replica in "$web" "$web2"; do
    [ "$(networks_of "$replica")" = "${STACK}_backend " ] || fail "$replica is on the networks: $(networks_of "$replica")"
done
[ "$(podman network inspect --format '{{.Internal}}' "${STACK}_backend")" = true ] ||
    fail "${STACK}_backend is not an internal network"
[ "$(networks_of "$proxy")" = "${STACK}_backend ${STACK}_frontend " ] ||
    fail "nginx is on the networks: $(networks_of "$proxy")"
# No way out from the internal network: a container on it has no default route (one on the published network,
# the control, has one). (This sandbox drops container-to-host traffic, so the route is what can be observed.)
routes() { quiet podman run --rm --network "$1" "localhost/$PREFIX-busybox" busybox ip route; }
routes "${STACK}_frontend" | grep -q '^default via' || fail "no default route on ${STACK}_frontend: $(routes "${STACK}_frontend")"
if routes "${STACK}_backend" | grep -q '^default'; then
    fail "the internal network has a way out: $(routes "${STACK}_backend")"
fi
ok "sealed network: both replicas only on ${STACK}_backend (internal, no default route), nginx on backend and frontend"
# The access log on the bind mount names the client that nginx forwarded (X-Forwarded-For), not nginx.
wait_until 10 "the request in $work/logs/access.log" grep -q '"GET /en/ HTTP/1.1" 200' "$work/logs/access.log"
[ -s "$work/logs/error.log" ] || fail "no error.log in the log directory"
proxy_ip="$(podman inspect --format "{{(index .NetworkSettings.Networks \"${STACK}_backend\").IPAddress}}" "$proxy")"
[ -n "$proxy_ip" ] || fail "nginx has no address on ${STACK}_backend"
client="$(grep '"GET /en/ HTTP/1.1" 200' "$work/logs/access.log" | tail -1 | cut -d' ' -f1)"
{ [ -n "$client" ] && [ "$client" != "$proxy_ip" ]; } || fail "access.log names nginx ($proxy_ip) as the client"
ok "log bind mount: access.log has the proxied requests with the forwarded client ($client), error.log exists"
# Self-healing in the stack: the server killed, the restart policy brings it back at the same address, and nginx
# (which resolved it once) reaches it again.
web_ip="$(podman inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$web")"
kill -KILL "$(podman inspect --format '{{.State.Pid}}' "$web")"
web_restarted() { [ "$(podman inspect --format '{{.RestartCount}}' "$web")" -ge 1 ]; }
wait_until 30 "$web restarted" web_restarted
wait_until 30 "$web healthy after its restart" is_healthy "$web"
wait_until 15 "nginx to reach mywebsite again" curl -fsS --cacert "$work/ca/ca.crt" -o /dev/null "$site/en/"
[ "$(podman inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$web")" = "$web_ip" ] ||
    fail "mywebsite came back at another address"
ok "stack: killed server restarted at the same address ($web_ip); nginx serves the site again"
# Hot reload: rebuild the package into the mounted directory (renamed into place); no restart.
web_started="$(podman inspect --format '{{.State.StartedAt}}' "$web")"
cp -a content "$work/content"
token="reloaded-$RANDOM$RANDOM"
sed -i "s/Notes from the server room/Notes from the server room $token/" "$work/content/site.yml"
"$bin/mywebsite-data" build "$work/content" --out "$work/data/site" >/dev/null
page_has_token() { curl -fsS --cacert "$work/ca/ca.crt" "$site/en/" | grep "$token" >/dev/null; }
wait_until 15 "the rebuilt package to be served" page_has_token
[ "$(podman inspect --format '{{.State.StartedAt}}' "$web")" = "$web_started" ] || fail "mywebsite restarted"
ok "replaced data package served within seconds, without a restart"
# Checkov's Compose checks saw the file; here is what podman actually ran.
for container in "$web" "$web2" "$proxy"; do
    [ "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$container")" = true ] ||
        fail "$container: root filesystem not read-only"
    caps="$(podman inspect --format '{{json .EffectiveCaps}}' "$container")"
    [ "$caps" = "[]" ] || [ "$caps" = null ] || fail "$container has capabilities $caps"
done
nginx_user="$(awk '/^Uid:/ { print $2 }' "/proc/$(podman inspect --format '{{.State.Pid}}' "$proxy")/status")"
[ "$nginx_user" = 101 ] || fail "nginx runs as UID $nginx_user"
ok "every container: read-only root filesystem, no capabilities; nginx as UID 101"
# An image update under load, from inside the published network: scripts/rolling-update.sh replaces one replica
# at a time while 4 curl loops (HTTP/2 keep-alive and HTTP/1.1 `Connection: close`) go through nginx.
printf 'FROM %s\nLABEL io.github.mywebsite.update=%s\n' "$IMAGE" "$version" |
    quiet podman build --pull=never --format docker -t "$UPDATE_IMAGE" -f - "$work" >/dev/null
update_id="$(podman image inspect --format '{{.Id}}' "$UPDATE_IMAGE")"
mkdir -p "$work/load"
proxy_frontend_ip="$(podman inspect --format "{{(index .NetworkSettings.Networks \"${STACK}_frontend\").IPAddress}}" "$proxy")"
quiet podman run -d --name "$PREFIX-load" --network "${STACK}_frontend" --user 0 \
    -v "$here/load_loop.sh:/load_loop.sh:ro" -v "$work/ca/ca.crt:/ca.crt:ro" -v "$work/load:/out" \
    docker.io/library/nginx:stable bash /load_loop.sh "https://localhost/en/" "$proxy_frontend_ip" 4 /out /ca.crt >/dev/null
answered() { [ "$(cat "$work"/load/codes-* 2>/dev/null | wc -l)" -ge 100 ]; }
wait_until 30 "the load to get its first answers" answered
before_update="$(cat "$work"/load/codes-* | wc -l)"
MYWEBSITE_IMAGE="$UPDATE_IMAGE" "$repo/scripts/rolling-update.sh" --engine podman --project "$STACK" -- \
    "$repo/.venv-container/bin/podman-compose" -f compose.yml >"$work/rolling-update.log" 2>&1 ||
    { cat "$work/rolling-update.log" >&2; fail "scripts/rolling-update.sh failed"; }
during_update="$(($(cat "$work"/load/codes-* | wc -l) - before_update))"
sleep 2
touch "$work/load/stop"
load_stopped() { [ "$(podman inspect --format '{{.State.Running}}' "$PREFIX-load")" = false ]; }
wait_until 30 "the load loops to stop" load_stopped
total="$(cat "$work"/load/codes-* | wc -l)"
failed="$(cat "$work"/load/codes-* | grep -cvx 200 || true)"
if [ "$failed" != 0 ]; then
    sort "$work"/load/codes-* | uniq -c >&2
    cat "$work"/load/errors-* >&2
    fail "$failed of $total requests failed during the rolling update"
fi
[ "$during_update" -ge 200 ] || fail "only $during_update requests during the update: the load did not run through it"
for replica in "$web" "$web2"; do
    [ "$(podman inspect --format '{{.Image}}' "$replica")" = "$update_id" ] || fail "$replica does not run $UPDATE_IMAGE"
done
curl -fsS --cacert "$work/ca/ca.crt" -o /dev/null "$site/en/" || fail "the site after the update"
update_seconds="$(sed -n 's/.*rolling-update: done in \([0-9.]*\) s$/\1/p' "$work/rolling-update.log")"
sed 's/^/    /' "$work/rolling-update.log"
ok "rolling update to a new image under load: $total requests ($during_update during the ${update_seconds} s update), 0 failed; both replicas run it"
# The monitoring profile: Prometheus (a stand-in built from Debian's package, as the official image cannot be
# pulled here) scrapes every replica's /metrics listener by its service name. Grafana's image cannot be made
# offline: its provisioning is checked in tests/delivery/test_monitoring.py.
export PROMETHEUS_IMAGE=localhost/mywebsite-ct-prometheus:latest
compose "$STACK" -f compose.yml --profile monitoring up -d prometheus
prometheus_api() {
    quiet podman run --rm --network "${STACK}_backend" "localhost/$PREFIX-busybox" \
        busybox wget -q -O - "http://prometheus:9090/api/v1/$1"
}
scraped_up() { prometheus_api targets | grep -q '"health":"up"'; }
wait_until 90 "Prometheus to scrape mywebsite:9464" scraped_up
counted() { prometheus_api 'query?query=sum(mywebsite_http_requests_total)' | grep -q '"value":\[[0-9.]*,"[1-9]'; }
wait_until 30 "Prometheus to hold the site's request counters" counted
wait_until 60 "${STACK}_prometheus_1 healthy" is_healthy "${STACK}_prometheus_1"
# /metrics is on its own port only: the site's port answers 404.
if quiet podman run --rm --network "${STACK}_backend" "localhost/$PREFIX-busybox" \
    busybox wget -q -O /dev/null http://mywebsite:8080/metrics 2>/dev/null; then
    fail "mywebsite:8080/metrics answers: metrics must stay on their own port"
fi
ok "monitoring profile: Prometheus scrapes mywebsite:9464 (target up, request counters stored); :8080/metrics is 404"
compose "$STACK" -f compose.yml --profile monitoring down
remove_project "$STACK"

# ---------------------------------------------------------------------------------------------------------------
phase "compose direct-tls override: HTTPS from mywebsite itself"
mkdir -p "$work/certs-direct"
cp "$work/ca/server.crt" "$work/ca/server.key" "$work/certs-direct/"
chgrp 1000 "$work/certs-direct/server.key"
chmod 0640 "$work/certs-direct/server.key"
export MYWEBSITE_CERTS_DIR="$work/certs-direct"
compose "$DIRECT" -f compose.yml -f compose.direct-tls.yml up -d
web="${DIRECT}_mywebsite_1"
wait_until 60 "$web healthy (mywebsite healthcheck --port 80)" is_healthy "$web"
[ -z "$(podman ps -a -q --filter "label=io.podman.compose.project=$DIRECT" \
    --filter 'label=io.podman.compose.service=reverse_proxy')" ] || fail "nginx started with the direct-tls override"
curl -fsS --cacert "$work/ca/ca.crt" -o "$work/direct.html" -D "$work/direct.headers" "$site/en/"
grep -q 'Notes from the server room' "$work/direct.html" || fail "direct-tls: not the site"
grep -qi '^server: mywebsite' "$work/direct.headers" || fail "direct-tls: not answered by mywebsite"
grep -qi '^strict-transport-security:' "$work/direct.headers" || fail "direct-tls: no HSTS header"
# Not `version`: that names this run's images, and the clean-up removes them by it.
protocol="$(curl -fsS --http2 --cacert "$work/ca/ca.crt" -o /dev/null -w '%{http_version}' "$site/en/")"
[ "$protocol" = 2 ] || fail "direct-tls: HTTP version $protocol, not HTTP/2 (ALPN h2)"
redirect="$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$http_port/en/")"
case "$redirect" in 30[178]\ https://*) ;; *) fail "direct-tls plain HTTP: $redirect" ;; esac
ok "direct-tls: mywebsite serves $site/en/ itself over HTTP/2 (no nginx), binds 443/80 as UID 1000, HTTP redirects"
compose "$DIRECT" -f compose.yml -f compose.direct-tls.yml down
remove_project "$DIRECT"
end_phase
