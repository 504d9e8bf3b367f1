#!/usr/bin/env bash
# Deploys one environment with the Ansible playbook (the `deploy:int` and `deploy:prod` jobs of .gitlab-ci.yml).
#
#   bash ci/deploy.sh int|prod
#
# IMAGE_VERSION         image tag to run; default: the pipeline's tag, else latest
# WEBSITE_DATA_PKG_REF  website data package to install (package registry version); empty: keep the current data
# SSH_PRIVATE_KEY, SSH_KNOWN_HOSTS   file variables: the deploy key and the hosts' keys
# WEBSITE_DATA_DEPLOY_TOKEN  a read-only deploy token (read_package_registry) for the hosts' download of the data
#                       package (DEPLOY-TOKEN header), passed through the environment; a masked, protected
#                       variable. Never the job token: it can write to the registry. Needed when a data package
#                       is deployed from a private project.
# image-digest.txt      (in CI_PROJECT_DIR, the publish job's artifact) the digest it pushed: the hosts run exactly
#                       that image (IMAGE:TAG@DIGEST), whatever the tag names by the time the manual job runs
# Set DEPLOY_SKIP_INSTALL=1 to use the ansible-playbook on PATH as it is (tests, or an image that has it).
set -euo pipefail

environment="${1:?usage: ci/deploy.sh int|prod}"
case "$environment" in
    int | prod) ;;
    *) echo "deploy: unknown environment '$environment' (int or prod)" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)"
ansible_dir="$root/deployments/ansible"
image_version="${IMAGE_VERSION:-${CI_COMMIT_TAG:-latest}}"
data_ref="${WEBSITE_DATA_PKG_REF:-}"

if [ "${DEPLOY_SKIP_INSTALL:-0}" != 1 ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends openssh-client >/dev/null
    pip install --quiet --no-cache-dir -r "$ansible_dir/requirements.txt"
    ansible-galaxy collection install --requirements-file "$ansible_dir/requirements.yml"
fi

if [ -n "${SSH_PRIVATE_KEY:-}" ]; then
    mkdir -p ~/.ssh
    chmod 0700 ~/.ssh
    # File variables hold a path; a plain variable holds the key itself.
    if [ -f "$SSH_PRIVATE_KEY" ]; then install -m 0600 "$SSH_PRIVATE_KEY" ~/.ssh/id_deploy
    else (umask 077 && printf '%s\n' "$SSH_PRIVATE_KEY" >~/.ssh/id_deploy); fi
    if [ -n "${SSH_KNOWN_HOSTS:-}" ]; then
        if [ -f "$SSH_KNOWN_HOSTS" ]; then cp "$SSH_KNOWN_HOSTS" ~/.ssh/known_hosts
        else printf '%s\n' "$SSH_KNOWN_HOSTS" >~/.ssh/known_hosts; fi
    fi
    export ANSIBLE_PRIVATE_KEY_FILE=~/.ssh/id_deploy
fi

# The data package is downloaded by the hosts with the read-only deploy token (role variables read it from the
# environment, so it is on no command line).
if [ -n "$data_ref" ] && [ -z "${WEBSITE_DATA_DEPLOY_TOKEN:-}" ]; then
    echo "deploy: WEBSITE_DATA_PKG_REF=$data_ref but WEBSITE_DATA_DEPLOY_TOKEN is not set: create a deploy token" \
        "with read_package_registry and store it as a masked, protected CI/CD variable (docs/delivery.md)" >&2
    exit 2
fi
export WEBSITE_DATA_TOKEN="${WEBSITE_DATA_DEPLOY_TOKEN:-}"
export WEBSITE_DATA_TOKEN_HEADER=DEPLOY-TOKEN
export WEBSITE_DATA_API_URL="${CI_API_V4_URL:-}"
export WEBSITE_DATA_PROJECT_ID="${CI_PROJECT_ID:-}"

echo "deploy: $environment, image ${IMAGE_NAME:-(inventory default)}:$image_version, data ${data_ref:-(unchanged)}"
cd "$ansible_dir"
extra=(-e "application_image_tag=$image_version" -e "application_website_data_ref=$data_ref")
digest_file="${CI_PROJECT_DIR:-$root}/image-digest.txt"
if [ -f "$digest_file" ]; then
    digest="$(tr -d '[:space:]' <"$digest_file")"
    [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "deploy: $digest_file holds '$digest', not a digest" >&2; exit 2; }
    extra+=(-e "application_image_digest=$digest")
    echo "deploy: pinned to the digest the pipeline pushed, $digest"
fi
[ -z "${IMAGE_NAME:-}" ] || extra+=(-e "application_image_repository=$IMAGE_NAME")
exec "${ANSIBLE_PLAYBOOK:-ansible-playbook}" -i "inventories/$environment" deploy.yml "${extra[@]}"
