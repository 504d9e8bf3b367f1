#!/usr/bin/env bash
# Builds a libFuzzer harness with AddressSanitizer and runs it.
#
#   Fuzz/run.sh [seconds] [extra libFuzzer flags…]     default: 300 seconds
#   FUZZ_TARGET=request-parser (default)  the HTTP/1.1 request parser (Fuzz/FuzzRequestParser.swift)
#   FUZZ_TARGET=http2                      the HTTP/2 input path: nghttp2 + HTTP2Connection (Fuzz/FuzzHTTP2.swift)
#
# The harness is compiled together with the parser's sources into one module named HTTP, straight with
# swiftc (-sanitize=fuzzer,address), so the parser is instrumented for coverage. Request.swift and
# Response.swift import Reactor, which is built uninstrumented by SwiftPM and linked as objects.
# Everything lands in .build-fuzz/ (git-ignored): the binary, the growing corpus, crash artifacts.
set -euo pipefail

seconds="${1:-300}"
shift || true
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$root/.build-fuzz"
deps="$scratch/debug"
out="$scratch/fuzz"
cd "$root"

swift build --scratch-path "$scratch" --target Reactor
swift build --scratch-path "$scratch" --target CoreMetrics  # HTTP counts through swift-metrics

target="${FUZZ_TARGET:-request-parser}"
mkdir -p "$out/$target/corpus" "$out/$target/artifacts"
common=(-module-name HTTP -parse-as-library -O -wmo -g "-sanitize=fuzzer,address"
    -I "$deps/Modules"
    -Xcc -fmodule-map-file="$deps/CLinux.build/module.modulemap" -Xcc -I -Xcc Sources/CLinux/include)
objects=("$deps"/Reactor.build/*.swift.o "$deps"/Logging.build/*.swift.o "$deps"/CLinux.build/*.c.o
    "$deps"/CoreMetrics.build/*.swift.o)
case $target in
request-parser)
    swiftc "${common[@]}" Fuzz/FuzzRequestParser.swift \
        Sources/HTTP/Request.swift Sources/HTTP/Response.swift Sources/HTTP/HTTPError.swift \
        Sources/HTTP/RequestParser*.swift "${objects[@]}" -o "$out/$target/fuzz"
    seeds=(Fuzz/corpus)
    flags=(-max_len=4096 -dict=Fuzz/http.dict)
    ;;
http2)
    # The whole HTTP module (the HTTP/2 connection needs its server, parser and access log) and libnghttp2.
    mapfile -t sources < <(find Sources/HTTP -name '*.swift' | sort)
    swiftc "${common[@]}" -Xcc -fmodule-map-file=Sources/CNGHTTP2/module.modulemap Fuzz/FuzzHTTP2.swift \
        "${sources[@]}" "${objects[@]}" -lnghttp2 -o "$out/$target/fuzz"
    seeds=(Fuzz/corpus-h2)
    flags=(-max_len=16384)
    ;;
*)
    echo "Fuzz/run.sh: FUZZ_TARGET must be request-parser or http2, not '$target'" >&2
    exit 64
    ;;
esac

# The first corpus directory receives new inputs; the committed seeds are only read.
# One input takes microseconds: the generous -timeout only catches real hangs, not a busy shared machine
# (a 5 s timeout once fired on a descheduled process).
"$out/$target/fuzz" \
    -max_total_time="$seconds" -timeout=30 "${flags[@]}" \
    -artifact_prefix="$out/$target/artifacts/" -print_final_stats=1 \
    "$@" "$out/$target/corpus" "${seeds[@]}"
