#!/usr/bin/env bash
# A stand-in for the `mywebsite` binary, to check bench/run.sh's plumbing before (or without) a release
# build: it speaks the same command line and becomes nginx with the competitor's configuration.
#
#   MYWEBSITE_BIN=bench/standin/mywebsite-standin.sh bench/run.sh        # expect ratios near 1.00×
#   STANDIN_WORKERS=0 MYWEBSITE_BIN=…                                    # one process, like mywebsite
#
# Accepts `serve --mode behind-proxy --host H --port P --threads N --static-path DIR --access-log off`
# and `serve --mode direct-tls --https-port P --http-port Q --cert F --key F --tls-profile X …`.
# Port 0 means "pick one". Prints `listening: http(s)://127.0.0.1:PORT`, then execs nginx in the
# foreground, so the PID the caller started is nginx's (master, or only process). SIGTERM makes nginx
# exit 0. Its nginx prefix lives in $TMPDIR, which run.sh points at its own temporary directory.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/common.sh
source "$here/../lib/common.sh"
# shellcheck source=../lib/nginx.sh
source "$here/../lib/nginx.sh"

usage() {
    echo "usage: mywebsite-standin.sh serve --mode behind-proxy|direct-tls [flags of mywebsite serve]" >&2
    exit 2
}

[[ ${1:-} == serve ]] || usage
shift
mode="" host=127.0.0.1 port=0 https_port=0 threads=2 static_dir="" cert="" key=""
while (($#)); do
    (($# >= 2)) || usage
    case $1 in
    --mode) mode=$2 ;;
    --host) host=$2 ;;
    --port) port=$2 ;;
    --https-port) https_port=$2 ;;
    --threads) threads=$2 ;;
    --static-path) static_dir=$2 ;;
    --cert) cert=$2 ;;
    --key) key=$2 ;;
    --http-port | --access-log | --tls-profile) ;; # no equivalent needed for the benchmark
    *)
        echo "mywebsite-standin: unknown flag $1" >&2
        usage
        ;;
    esac
    shift 2
done

[[ $host == 127.0.0.1 ]] || die "--host: the stand-in only listens on 127.0.0.1"
[[ -d $static_dir ]] || die "--static-path: not a directory: '$static_dir'"
prefix=$(mktemp -d "${TMPDIR:-/tmp}/mywebsite-standin.XXXXXX")
workers=${STANDIN_WORKERS:-$threads}

case $mode in
behind-proxy)
    ((port != 0)) || port=$(free_port)
    nginx_write_conf "$prefix/nginx.conf" "$prefix" "$static_dir" "$workers" "$port"
    url="http://127.0.0.1:$port"
    ;;
direct-tls)
    [[ -r $cert && -r $key ]] || die "--cert/--key: unreadable '$cert' / '$key'"
    ((https_port != 0)) || https_port=$(free_port)
    nginx_write_conf "$prefix/nginx.conf" "$prefix" "$static_dir" "$workers" 0 "$https_port" "$cert" "$key"
    url="https://127.0.0.1:$https_port"
    ;;
*) die "--mode: expected behind-proxy or direct-tls, got '$mode'" ;;
esac

nginx_command "$prefix/nginx.conf" "$prefix"
"${NGINX_CMD[@]}" -t -q || die "nginx rejected $prefix/nginx.conf"
# Printed just before nginx binds; run.sh also waits for the port to accept, as it does for mywebsite.
echo "listening: $url"
exec "${NGINX_CMD[@]}"
