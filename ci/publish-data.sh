#!/bin/sh
# Uploads the website data package to the project's generic package registry and hands its reference to the
# deploy jobs (the `publish:data` job of .gitlab-ci.yml). POSIX sh (the curl image has BusyBox).
#
#   sh ci/publish-data.sh data.tgz
#
# The package lands at $CI_API_V4_URL/projects/$CI_PROJECT_ID/packages/generic/website-data/REF/data.tgz, where
# REF is the tag on a tag pipeline and the short commit SHA otherwise; the same URL the Ansible role downloads
# (deployments/ansible/roles/application/tasks/website_data.yml). Writes website-data.env
# (WEBSITE_DATA_PKG_REF=REF), a dotenv report the deploy jobs receive as a variable.
# CURL (default curl) may name a stand-in for tests.
set -eu

archive="${1:?usage: ci/publish-data.sh data.tgz}"
: "${CI_API_V4_URL:?}" "${CI_PROJECT_ID:?}" "${CI_JOB_TOKEN:?}"
ref="${WEBSITE_DATA_PUBLISH_REF:-${CI_COMMIT_TAG:-${CI_COMMIT_SHORT_SHA:?}}}"
case "$ref" in
    *[!A-Za-z0-9._+-]* | [.-]*) echo "publish-data: invalid package reference '$ref'" >&2; exit 1 ;;
esac
url="$CI_API_V4_URL/projects/$CI_PROJECT_ID/packages/generic/website-data/$ref/data.tgz"

# The job token is sent in a header read from standard input, so it appears in no command line.
printf 'JOB-TOKEN: %s\n' "$CI_JOB_TOKEN" | "${CURL:-curl}" --fail-with-body --silent --show-error \
    --retry 3 --header @- --upload-file "$archive" "$url"
echo
echo "WEBSITE_DATA_PKG_REF=$ref" >website-data.env
echo "publish-data: $archive → website-data/$ref/data.tgz"
