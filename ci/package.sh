#!/bin/sh
# Packs the release binary and the web assets into package.tgz, the input of the Dockerfile's
# `runtime-prebuilt` target (the `package` job of .gitlab-ci.yml; the original pipeline's flow).
#
#   sh ci/package.sh BINARY [OUT]        e.g. sh ci/package.sh dist/bin/mywebsite package.tgz
#
# Layout (owner 0, modes normalised, sorted, no timestamps in gzip, so the same input gives the same bytes):
#   bin/mywebsite   web/static/…   web/templates/…
set -eu

binary="${1:?usage: ci/package.sh BINARY [OUT]}"
out="${2:-package.tgz}"
root="$(cd "$(dirname "$0")/.." && pwd)"
[ -x "$binary" ] || { echo "package: $binary is not an executable" >&2; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/web"
cp "$binary" "$stage/bin/mywebsite"
cp -R "$root/web/static" "$root/web/templates" "$stage/web/"

tar --create --directory "$stage" --sort=name --format=gnu --mtime=@0 --owner=0 --group=0 --numeric-owner \
    --mode=u=rwX,go=rX --no-acls --no-xattrs bin web | gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
echo "package: $out ($(wc -c <"$out") bytes): $(tar -tzf "$out" | grep -c -v '/$') files"
