#!/usr/bin/env bash
# Replaces the mywebsite replicas of a compose stack one at a time, so that nginx always has one to send requests
# to. Each replica is re-created (compose stops the old container, which drains, then starts a new one from the
# image the compose file names now), and the script waits until the new container answers its healthcheck.
# Meanwhile nginx retries on the other replica whatever this one refuses, and leaves it aside for fail_timeout
# (deployments/nginx/mywebsite.conf), so an update loses no request. Then, before the next replica:
# - at the same address (compose.yml gives each replica a fixed one): the script waits --settle seconds, for nginx
#   to take the replica back once its fail_timeout has passed. nginx itself is left alone;
# - at a new address: the script waits until the name resolves to it in nginx's container, reloads nginx
#   (SIGHUP), which resolves it again, and waits until nginx's old workers are gone. (A reload closes the clients'
#   idle connections, which some clients report as an error: the fixed addresses avoid it.)
#
#   scripts/rolling-update.sh [OPTIONS] [-- COMPOSE-COMMAND...]
#
#   MYWEBSITE_IMAGE=registry.example.org/mywebsite:v1.2.4 scripts/rolling-update.sh
#   scripts/rolling-update.sh --engine podman --project mywebsite -- podman-compose -f compose.yml
#
# Options:
#   --project NAME       the compose project (default: mywebsite, compose.yml's `name`)
#   --services "A B"     the replicas, in order (default: "mywebsite mywebsite-2")
#   --proxy SERVICE      nginx's service, reloaded after each replica ("" for none; default: reverse_proxy)
#   --engine CLI         docker or podman (default: podman when the compose command names podman, else docker)
#   --timeout SECONDS    how long a new replica may take to become healthy (default: 120)
#   --settle SECONDS     the wait after a replica at the same address is healthy: longer than nginx's fail_timeout
#                        (default: 6, for fail_timeout=5s)
# COMPOSE-COMMAND defaults to `docker compose`; the script adds `--project-name NAME` and its subcommands.
#
# Exits 0 once every replica runs a container made from the current compose file; 1 (naming the replica) when a
# new container does not become healthy or nginx does not take its new configuration: the replicas not yet
# replaced still run, and nginx sends them the traffic. Prints how long each step and the whole update took.
set -euo pipefail

project=mywebsite
services="mywebsite mywebsite-2"
proxy=reverse_proxy
engine=""
timeout=120
settle=6
while [ $# -gt 0 ]; do
    case "$1" in
        --project) project="${2:?--project needs a name}"; shift 2 ;;
        --services) services="${2:?--services needs a list}"; shift 2 ;;
        --proxy) proxy="${2?--proxy needs a service}"; shift 2 ;;
        --engine) engine="${2:?--engine needs docker or podman}"; shift 2 ;;
        --timeout) timeout="${2:?--timeout needs seconds}"; shift 2 ;;
        --settle) settle="${2:?--settle needs seconds}"; shift 2 ;;
        --) shift; break ;;
        -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "rolling-update: unknown option $1 (see --help)" >&2; exit 64 ;;
    esac
done
compose=("$@")
[ ${#compose[@]} -gt 0 ] || compose=(docker compose)
if [ -z "$engine" ]; then
    case "${compose[0]}" in *podman*) engine=podman ;; *) engine=docker ;; esac
fi
[[ $timeout =~ ^[1-9][0-9]*$ ]] || { echo "rolling-update: --timeout: a number of seconds, not '$timeout'" >&2; exit 64; }
[[ $settle =~ ^[0-9]+$ ]] || { echo "rolling-update: --settle: a number of seconds, not '$settle'" >&2; exit 64; }

log() { printf '%s rolling-update: %s\n' "$(date +%T)" "$*"; }
die() {
    printf '%s rolling-update: %s\n' "$(date +%T)" "$*" >&2
    exit 1
}
now() { date +%s.%N; }
since() { awk -v start="$1" -v end="$(now)" 'BEGIN { printf "%.1f", end - start }'; }

# containers SERVICE: the IDs of the service's containers (both docker compose and podman-compose set these labels).
containers() {
    "$engine" ps --quiet --filter "label=com.docker.compose.project=$project" \
        --filter "label=com.docker.compose.service=$1"
}

# workers PROXY-ID: the PIDs of nginx's worker processes (the children of the master, PID 1 in its container).
workers() { "$engine" exec "$1" cat /proc/1/task/1/children 2>/dev/null | tr -s ' ' '\n' | sed '/^$/d' | sort; }

# addresses CONTAINER: its addresses, sorted, one line.
addresses() {
    "$engine" inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1" |
        tr -s ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' '
}

# resolves PROXY-ID SERVICE CONTAINER: whether nginx's container resolves the service's name to the container's
# address. nginx resolves it (once, blocking) when it reloads: this makes sure the answer is the new one, and that
# the network's DNS answers at all (it may stall for seconds while the engine updates it for the new container).
resolves() {
    local resolved
    resolved="$("$engine" exec "$1" getent hosts "$2" 2>/dev/null | awk '{ print $1 }')" || return 1
    [ -n "$resolved" ] && [[ " $(addresses "$3") " == *" $resolved "* ]]
}

# reload_proxy ID: SIGHUP to nginx, then waits until none of its workers from before remain: from then on every
# request is routed with the new configuration (a failed reload keeps the old workers, and is reported).
reload_proxy() {
    local id="$1" before after deadline
    before="$(workers "$id")"
    [ -n "$before" ] || die "cannot list nginx's workers in container $id (is /proc/1/task/1/children readable?)"
    "$engine" kill --signal HUP "$id" >/dev/null
    deadline=$((SECONDS + 60))
    while :; do
        after="$(workers "$id")"
        if [ -n "$after" ] && [ -z "$(comm -12 <(printf '%s\n' "$before") <(printf '%s\n' "$after"))" ]; then
            return 0
        fi
        [ "$SECONDS" -lt "$deadline" ] || die "nginx's workers 60 s after SIGHUP: $(tr '\n' ' ' <<<"${after:-none}")(before:" \
            "$(tr '\n' ' ' <<<"$before")): its new configuration failed, or old workers still finish requests (see '$engine logs $id')"
        sleep 0.2
    done
}

started="$(now)"
for service in $services; do
    step="$(now)"
    old="$(containers "$service")"
    old_addresses=""
    [ -z "$old" ] || old_addresses="$(addresses "$old")"
    "${compose[@]}" --project-name "$project" up --detach --no-deps --force-recreate "$service" >/dev/null ||
        die "$service: '${compose[*]} up' failed; the other replicas still serve"
    new="$(containers "$service")"
    [ "$(wc -w <<<"$new")" = 1 ] || die "$service: expected one container after re-creating it, found: ${new:-none}"
    [ "$new" != "$old" ] || die "$service: its container was not re-created"
    deadline=$((SECONDS + timeout))
    until "$engine" exec "$new" mywebsite healthcheck >/dev/null 2>&1; do
        [ "$(containers "$service")" = "$new" ] || die "$service: the new container stopped (see '$engine logs $new')"
        [ "$SECONDS" -lt "$deadline" ] ||
            die "$service: not healthy ${timeout} s after it was re-created (see '$engine logs $new'); the replicas not yet replaced still serve"
        sleep 0.2
    done
    healthy="$(since "$step")"
    proxy_id=""
    [ -z "$proxy" ] || proxy_id="$(containers "$proxy")"
    if [ -z "$proxy_id" ]; then
        log "$service: re-created, healthy after ${healthy} s"
    elif [ "$(addresses "$new")" = "$old_addresses" ]; then
        sleep "$settle"
        log "$service: re-created at the same address, healthy after ${healthy} s, nginx's fail_timeout over after $(since "$step") s"
    else
        deadline=$((SECONDS + 30))
        until resolves "$proxy_id" "$service" "$new"; do
            [ "$SECONDS" -lt "$deadline" ] || die "$service: nginx's container does not resolve it to the new" \
                "container's address 30 s after it became healthy; nginx was not reloaded"
            sleep 0.2
        done
        reload_proxy "$proxy_id"
        log "$service: re-created at a new address, healthy after ${healthy} s, nginx reloaded after $(since "$step") s"
    fi
done
log "done in $(since "$started") s"
