#!/bin/sh
# Builds the image with Buildah and pushes it: the maintained alternative to Kaniko (archived in 2025) for the
# `publish:image:*` jobs, chosen with IMAGE_BUILDER=buildah and IMAGE_BUILDER_IMAGE=quay.io/buildah/stable:v1.38
# (ci/publish-image.sh). Rootless and daemonless: chroot isolation and the vfs storage driver, so it runs in an
# unprivileged container of a stock Docker executor. POSIX sh.
#
# Input: as ci/kaniko-publish.sh (DOCKERHUB_REGISTRY DOCKERHUB_USER DOCKERHUB_PASSWORD IMAGE_TAGS, IMAGE_NAME,
# KANIKO_CACHE_REPO for the layer cache, KANIKO_TARGET, IMAGE_DIGEST_FILE, the build arguments), and
#   BUILDAH               the buildah command, default buildah (tests put a stand-in here)
#   BUILDAH_AUTH_DIR      where the registry credentials file is written (0600), default $TMPDIR or /tmp
#   BUILDAH_STORAGE_DRIVER  default vfs (overlay needs a fuse device or privileges)
set -eu

publisher="buildah-publish"
# shellcheck source=ci/publish-inputs.sh
. "$(dirname "$0")/publish-inputs.sh"

context="${CI_PROJECT_DIR:-$(pwd)}"
buildah="${BUILDAH:-buildah}"
image="${IMAGE_NAME:-$DOCKERHUB_REGISTRY/$DOCKERHUB_USER/mywebsite}"
cache_repo="${KANIKO_CACHE_REPO:-$image-cache}"
target="${KANIKO_TARGET:-runtime-prebuilt}"
digest_file="${IMAGE_DIGEST_FILE:-$context/image-digest.txt}"
storage="--storage-driver=${BUILDAH_STORAGE_DRIVER:-vfs}"
export BUILDAH_ISOLATION="${BUILDAH_ISOLATION:-chroot}"

# Credentials outside the build context (never in an artifact), readable by this user only.
auth_dir="${BUILDAH_AUTH_DIR:-${TMPDIR:-/tmp}}"
auth_file="$auth_dir/buildah-auth.json"
auth="$(printf '%s:%s' "$DOCKERHUB_USER" "$DOCKERHUB_PASSWORD" | base64 | tr -d '\n')"
mkdir -p "$auth_dir"
(
    umask 077
    printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$DOCKERHUB_REGISTRY" "$auth" >"$auth_file"
)
trap 'rm -f "$auth_file"' EXIT

VERSION="${VERSION:-${CI_COMMIT_TAG:-${CI_COMMIT_SHORT_SHA:-}}}"
REVISION="${REVISION:-${CI_COMMIT_SHA:-}}"
SOURCE="${SOURCE:-${CI_PROJECT_URL:-}}"

# `buildah build`'s arguments, built in "$@" so that no value is word-split. --timestamp 0: the same inputs make
# the same image (as Kaniko's --reproducible).
set -- "$storage" build --authfile "$auth_file" --file "$context/Dockerfile" --target "$target" --layers \
    --cache-from "$cache_repo" --cache-to "$cache_repo" --timestamp 0
tags=""
for tag in $IMAGE_TAGS; do
    case "$tag" in
        *[!A-Za-z0-9_.-]* | [.-]*) fail "invalid image tag '$tag'" ;;
    esac
    set -- "$@" --tag "$image:$tag"
    tags="$tags $tag"
done
for name in SWIFT_VERSION USER_ID GROUP_ID VERSION REVISION SOURCE; do
    # $name is one of the literal names above, so this eval only reads that variable.
    eval "value=\${$name:-}"
    # shellcheck disable=SC2154 # value is set by the eval above
    [ -z "$value" ] || set -- "$@" --build-arg "$name=$value"
done
set -- "$@" "$context"

echo "buildah-publish: $image, tags:$tags, target: $target, cache: $cache_repo"
"$buildah" "$@"
for tag in $tags; do
    "$buildah" "$storage" push --authfile "$auth_file" --digestfile "$digest_file" "$image:$tag" \
        "docker://$image:$tag"
done
echo "buildah-publish: pushed $(cat "$digest_file" 2>/dev/null || echo '(no digest file)')"
