#!/usr/bin/env bash
# Makes the base images the Dockerfile and compose.yml name, locally, since no registry is reachable here:
#   docker.io/library/debian:bookworm-slim   debootstrap (minbase) from this machine's Debian mirror, trimmed
#   docker.io/library/nginx:stable           a stand-in for the official image: Debian's nginx on the image above
#   localhost/mywebsite-ct-busybox:latest    busybox alone, to probe the compose network from inside it
# Each is made only when missing, the nginx one also when nginx.Dockerfile changed (they carry the label
# BASE_LABEL of lib.sh and are kept between runs: making them takes minutes on a slow mirror).
# `base-images.sh --rebuild` makes them again.
#
#   tests/container/base-images.sh [--rebuild]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh"

DEBIAN_IMAGE=docker.io/library/debian:bookworm-slim
NGINX_IMAGE=docker.io/library/nginx:stable
PROMETHEUS_IMAGE=localhost/mywebsite-ct-prometheus:latest  # compose.yml's PROMETHEUS_IMAGE, for the profile
BUSYBOX_IMAGE=localhost/mywebsite-ct-busybox:latest
# Downloaded .deb files are kept here between runs, outside the repository.
CACHE="${MYWEBSITE_CT_CACHE:-/var/cache/mywebsite-container-tests}"

rebuild=0
[ "${1:-}" != --rebuild ] || rebuild=1

have_image() { [ "$rebuild" = 0 ] && podman image exists "$1"; }

make_debian() {
    have_image "$DEBIAN_IMAGE" && return 0
    local root mirror
    mirror="$(apt_mirror)"
    root="$(mktemp -d /var/tmp/mywebsite-ct-rootfs.XXXXXX)"
    mkdir -p "$CACHE/debootstrap"
    log "debootstrap bookworm (minbase) from the machine's mirror"
    debootstrap --variant=minbase --cache-dir="$CACHE/debootstrap" bookworm "$root" "$mirror" \
        >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; rm -rf "$root" "$root.log"; fail "debootstrap failed"; }
    rm -f "$root.log"
    # The same apt sources as this machine (main, updates and security), as the official image has.
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/debian.sources"
        rm -f "$root/etc/apt/sources.list"
    fi
    # Like the official slim image: no documentation, manual pages or translations, now or on later installs.
    cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CFG
    find "$root/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
    rm -rf "$root"/usr/share/{man,info,locale,lintian}/* "$root"/var/cache/apt/*.bin \
        "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
    tar --numeric-owner -C "$root" -c . |
        podman import --quiet --change 'CMD ["bash"]' --change "LABEL $BASE_LABEL" - "$DEBIAN_IMAGE" >/dev/null
    rm -rf "$root"
    log "made $DEBIAN_IMAGE ($(podman image inspect --format '{{.Size}}' "$DEBIAN_IMAGE") bytes)"
}

# make_stand_in IMAGE DOCKERFILE WHAT: builds IMAGE from DOCKERFILE (on the debootstrapped Debian image), again
# only when the Dockerfile changes (the label records which one it was made from).
make_stand_in() {
    local image="$1" dockerfile="$2" what="$3"
    local recipe
    recipe="$(sha256sum <"$here/$dockerfile" | cut -c1-16)"
    local made_from
    made_from="$(podman image inspect --format '{{index .Labels "io.github.mywebsite.recipe"}}' "$image" \
        2>/dev/null || true)"
    if have_image "$image" && [ "$made_from" = "$recipe" ]; then
        return 0
    fi
    log "building the $what stand-in from Debian's packages"
    local previous
    previous="$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
    # --layers=false: one image, no build steps kept as untagged images (it is made again only when it changes).
    podman build --pull=never --format docker --layers=false --label "$BASE_LABEL" \
        --label "io.github.mywebsite.recipe=$recipe" \
        -t "$image" -f "$here/$dockerfile" "$here" >"$CACHE/$what-build.log" 2>&1 ||
        { tail -20 "$CACHE/$what-build.log" >&2; fail "building the $what stand-in failed"; }
    # The image it replaces, now untagged (unless a container still uses it).
    [ -z "$previous" ] || podman rmi "$previous" >/dev/null 2>&1 || true
    log "made $image ($(podman image inspect --format '{{.Size}}' "$image") bytes)"
}

make_busybox() {
    have_image "$BUSYBOX_IMAGE" && return 0
    local root
    root="$(mktemp -d)"
    mkdir -p "$root/bin"
    cp /bin/busybox "$root/bin/busybox"
    ln -s busybox "$root/bin/sh"
    tar --numeric-owner -C "$root" -c . |
        podman import --quiet --change 'CMD ["sh"]' --change "LABEL $BASE_LABEL" - "$BUSYBOX_IMAGE" >/dev/null
    rm -rf "$root"
    log "made $BUSYBOX_IMAGE"
}

mkdir -p "$CACHE"
make_debian
make_stand_in "$NGINX_IMAGE" nginx.Dockerfile nginx
make_stand_in "$PROMETHEUS_IMAGE" prometheus.Dockerfile prometheus
make_busybox
