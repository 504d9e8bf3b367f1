#!/bin/sh
# Builds the image with Kaniko and pushes it to the registry: the `publish:image:*` jobs of .gitlab-ci.yml.
# POSIX sh: Kaniko's debug image has only BusyBox (`sh ci/kaniko-publish.sh`).
#
# Input (CI/CD variables; DOCKERHUB_* are masked project variables):
#   DOCKERHUB_REGISTRY DOCKERHUB_USER DOCKERHUB_PASSWORD   registry and its credentials (required)
#   IMAGE_TAGS          space-separated tags to push, e.g. "latest" or "v1.2.3" (required)
#   IMAGE_NAME          default $DOCKERHUB_REGISTRY/$DOCKERHUB_USER/mywebsite
#   KANIKO_CACHE_REPO   layer cache repository, default $IMAGE_NAME-cache
#   KANIKO_TARGET       Dockerfile target, default runtime-prebuilt (needs package.tgz in the context)
#   IMAGE_DIGEST_FILE   where Kaniko writes the pushed digest, default $CI_PROJECT_DIR/image-digest.txt
#   build arguments     SWIFT_VERSION USER_ID GROUP_ID VERSION REVISION SOURCE: passed through when set;
#                       VERSION, REVISION and SOURCE default to the tag (or short SHA), the SHA and the project URL
#   KANIKO_EXECUTOR     the executor, default /kaniko/executor (tests put a stand-in here)
#   KANIKO_DOCKER_CONFIG  directory of the registry config.json, default /kaniko/.docker
set -eu

publisher="kaniko-publish"
# shellcheck source=ci/publish-inputs.sh
. "$(dirname "$0")/publish-inputs.sh"

context="${CI_PROJECT_DIR:-$(pwd)}"
executor="${KANIKO_EXECUTOR:-/kaniko/executor}"
config_dir="${KANIKO_DOCKER_CONFIG:-/kaniko/.docker}"
image="${IMAGE_NAME:-$DOCKERHUB_REGISTRY/$DOCKERHUB_USER/mywebsite}"
cache_repo="${KANIKO_CACHE_REPO:-$image-cache}"
target="${KANIKO_TARGET:-runtime-prebuilt}"
digest_file="${IMAGE_DIGEST_FILE:-$context/image-digest.txt}"

# Docker Hub's credentials are looked up under its v1 index URL, other registries under their host name.
case "$DOCKERHUB_REGISTRY" in
    docker.io | index.docker.io | registry-1.docker.io) auth_key="https://index.docker.io/v1/" ;;
    *) auth_key="$DOCKERHUB_REGISTRY" ;;
esac
auth="$(printf '%s:%s' "$DOCKERHUB_USER" "$DOCKERHUB_PASSWORD" | base64 | tr -d '\n')"
mkdir -p "$config_dir"
(
    umask 077
    printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$auth_key" "$auth" >"$config_dir/config.json"
)
# Kaniko reads $DOCKER_CONFIG/config.json (/kaniko/.docker by default).
export DOCKER_CONFIG="$config_dir"

VERSION="${VERSION:-${CI_COMMIT_TAG:-${CI_COMMIT_SHORT_SHA:-}}}"
REVISION="${REVISION:-${CI_COMMIT_SHA:-}}"
SOURCE="${SOURCE:-${CI_PROJECT_URL:-}}"

# The executor's arguments, built in "$@" so that no value is word-split.
set -- --context "dir://$context" --dockerfile "$context/Dockerfile" --target "$target"
for tag in $IMAGE_TAGS; do
    case "$tag" in
        *[!A-Za-z0-9_.-]* | [.-]*) fail "invalid image tag '$tag'" ;;
    esac
    set -- "$@" --destination "$image:$tag"
done
for name in SWIFT_VERSION USER_ID GROUP_ID VERSION REVISION SOURCE; do
    # $name is one of the literal names above, so this eval only reads that variable.
    eval "value=\${$name:-}"
    # shellcheck disable=SC2154 # value is set by the eval above
    [ -z "$value" ] || set -- "$@" --build-arg "$name=$value"
done
set -- "$@" --cache=true --cache-repo "$cache_repo" --digest-file "$digest_file" \
    --snapshot-mode=redo --skip-unused-stages --reproducible

echo "kaniko-publish: $image, tags: $IMAGE_TAGS, target: $target, cache: $cache_repo"
"$executor" "$@"
echo "kaniko-publish: pushed $(cat "$digest_file" 2>/dev/null || echo '(no digest file)')"
