#!/bin/sh
# Builds the Dockerfile's default target, `runtime`, which compiles the server from source in the Swift image,
# and pushes nothing: the `image:compile-check` job of .gitlab-ci.yml. The machines that run scripts/test.sh
# reach no registry, so the container suite builds that stage with a stand-in toolchain; GitLab's runners
# reach Docker Hub, so here the real Swift image compiles it. POSIX sh (Kaniko's debug image has BusyBox).
#
#   KANIKO_EXECUTOR   the executor, default /kaniko/executor (tests put a stand-in here)
#   SWIFT_VERSION     passed as a build argument when set
set -eu
context="${CI_PROJECT_DIR:-$(pwd)}"
executor="${KANIKO_EXECUTOR:-/kaniko/executor}"
set -- --context "dir://$context" --dockerfile "$context/Dockerfile" --target runtime --no-push --cache=false \
    --destination "mywebsite:compile-check"
[ -z "${SWIFT_VERSION:-}" ] || set -- "$@" --build-arg "SWIFT_VERSION=$SWIFT_VERSION"
[ -z "${CI_COMMIT_SHA:-}" ] || set -- "$@" --build-arg "REVISION=$CI_COMMIT_SHA"
echo "kaniko-compile-check: building target runtime from source, not pushed"
"$executor" "$@"
