#!/bin/sh
# A stand-in for the Swift toolchain in the Swift image (none can be pulled here), for run.sh's build of the
# Dockerfile's default target `runtime`: answers the Dockerfile's `swift` commands, checks that the build
# context has what SwiftPM needs at each step, and "builds" by copying the release binary built on the host.
echo "swift-stub: swift $*" >&2
case "$*" in
    "package resolve")
        test -f Package.swift ;;
    "build -c release --static-swift-stdlib --product mywebsite")
        for dir in Sources/App Sources/Reactor Tests/ReactorTests Tests/EndToEndTests; do
            [ -d "$dir" ] || { echo "swift-stub: $dir is not in the build context" >&2; exit 1; }
        done
        mkdir -p .build/release && cp /opt/mywebsite .build/release/mywebsite ;;
    "build -c release --static-swift-stdlib --show-bin-path")
        echo "$PWD/.build/release" ;;
    *)
        echo "swift-stub: unexpected command: swift $*" >&2
        exit 1 ;;
esac
