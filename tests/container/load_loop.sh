#!/usr/bin/env bash
# Load for the rolling-update test (run.sh), inside a container on the stack's published network (the nginx
# stand-in image: bash and curl): WORKERS loops against nginx until OUT/stop exists. Odd workers send 20 requests
# per HTTP/2 connection (keep-alive, as browsers do), even ones one request per HTTP/1.1 connection
# (`Connection: close`). Every response's status goes to OUT/codes-N (000: no response), curl's errors to
# OUT/errors-N.
#
#   load_loop.sh URL ADDRESS WORKERS OUT CA-FILE    e.g. load_loop.sh https://localhost/en/ 10.89.0.5 4 /out /ca.crt
# The URL's host is the certificate's name; connections go to ADDRESS:443, nginx's address on the network, as a
# browser's go to the address it resolved once (the network's DNS, aardvark-dns, may not answer for a moment while
# containers come and go, which is no part of what is measured).
set -uo pipefail
url="$1" address="$2" workers="$3" out="$4" ca="$5"
keep_alive=()
for _ in $(seq 1 20); do keep_alive+=(-o /dev/null "$url"); done
host="${url#https://}"
host="${host%%/*}"
for worker in $(seq 1 "$workers"); do
    (
        while [ ! -e "$out/stop" ]; do
            if [ $((worker % 2)) = 1 ]; then
                curl -sS --http2 --cacert "$ca" --connect-to "$host:443:$address:443" -m 10 \
                    -w '%{http_code}\n' "${keep_alive[@]}"
            else
                curl -sS --http1.1 -H 'Connection: close' --cacert "$ca" \
                    --connect-to "$host:443:$address:443" -m 10 -w '%{http_code}\n' -o /dev/null "$url"
            fi
        done >>"$out/codes-$worker" 2>>"$out/errors-$worker"
    ) &
done
wait
