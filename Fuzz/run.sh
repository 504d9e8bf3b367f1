#!/usr/bin/env bash
# Builds the RequestParser libFuzzer harness with AddressSanitizer and runs it.
#
#   Fuzz/run.sh [seconds] [extra libFuzzer flags…]     default: 300 seconds
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

mkdir -p "$out/corpus" "$out/artifacts"
swiftc -module-name HTTP -parse-as-library -O -wmo -g -sanitize=fuzzer,address \
    -I "$deps/Modules" \
    -Xcc -fmodule-map-file="$deps/CLinux.build/module.modulemap" -Xcc -I -Xcc Sources/CLinux/include \
    Fuzz/FuzzRequestParser.swift \
    Sources/HTTP/Request.swift Sources/HTTP/Response.swift Sources/HTTP/HTTPError.swift \
    Sources/HTTP/RequestParser*.swift \
    "$deps"/Reactor.build/*.swift.o "$deps"/Logging.build/*.swift.o "$deps"/CLinux.build/*.c.o \
    -o "$out/fuzz-request-parser"

# The first corpus directory receives new inputs; Fuzz/corpus (the committed seeds) is only read.
# One parse takes microseconds: the generous -timeout only catches real hangs, not a busy shared machine
# (a 5 s timeout once fired on a descheduled process).
"$out/fuzz-request-parser" \
    -max_total_time="$seconds" -max_len=4096 -timeout=30 \
    -dict=Fuzz/http.dict -artifact_prefix="$out/artifacts/" -print_final_stats=1 \
    "$@" "$out/corpus" Fuzz/corpus
