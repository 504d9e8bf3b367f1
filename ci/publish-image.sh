#!/bin/sh
# The `publish:image:*` jobs' script: builds and pushes the image with the builder IMAGE_BUILDER names,
# `kaniko` (default; the job image is Kaniko's debug executor) or `buildah` (set IMAGE_BUILDER_IMAGE to a Buildah
# image too, e.g. quay.io/buildah/stable:v1.38). POSIX sh: Kaniko's debug image has only BusyBox.
set -eu
here="$(dirname "$0")"
case "${IMAGE_BUILDER:-kaniko}" in
    kaniko) exec sh "$here/kaniko-publish.sh" ;;
    buildah) exec sh "$here/buildah-publish.sh" ;;
    *) echo "publish-image: IMAGE_BUILDER must be kaniko or buildah, got '${IMAGE_BUILDER}'" >&2; exit 1 ;;
esac
