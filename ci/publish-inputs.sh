# shellcheck shell=sh
# Sourced by ci/kaniko-publish.sh and ci/buildah-publish.sh (set `publisher` first): the checks of the inputs
# both take, with one message each that names the variable.

: "${publisher:?set publisher before sourcing ci/publish-inputs.sh}"

fail() {
    echo "$publisher: $*" >&2
    exit 1
}

[ "${DEPLOY_MODE:-N}" != "Y" ] || fail "DEPLOY_MODE=Y pipelines only deploy; nothing is published"
[ -n "${DOCKERHUB_REGISTRY:-}" ] || fail "DOCKERHUB_REGISTRY is not set (e.g. docker.io)"
[ -n "${DOCKERHUB_USER:-}" ] || fail "DOCKERHUB_USER is not set"
[ -n "${DOCKERHUB_PASSWORD:-}" ] || fail "DOCKERHUB_PASSWORD is not set"
[ -n "${IMAGE_TAGS:-}" ] || fail "IMAGE_TAGS is not set (e.g. latest or v1.2.3)"

# The registry name goes into JSON unquoted by any tool: allow host[:port] characters only.
case "$DOCKERHUB_REGISTRY" in
    *[!A-Za-z0-9.:-]*) fail "DOCKERHUB_REGISTRY must be a host name with an optional port, got '$DOCKERHUB_REGISTRY'" ;;
esac
