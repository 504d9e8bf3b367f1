# syntax=docker/dockerfile:1
# The mywebsite server image: the binary, its web assets and the shared libraries it links, on an empty root —
# no shell, no package manager, no compiler, no curl (`mywebsite healthcheck` probes /healthz itself).
# Runs as a non-root user, with a read-only root filesystem, all capabilities dropped (docs/container.md).
#
# Two targets give the same image:
#   runtime-prebuilt   from package.tgz in the build context, built beforehand by CI (ci/package.sh:
#                      bin/mywebsite, web/static/, web/templates/ — the release binary built with
#                      `swift build -c release --static-swift-stdlib` on the same Debian release as BASE_IMAGE)
#       docker build --target runtime-prebuilt -t mywebsite .
#   runtime (default)  compiles the server from source in the Swift image first
#       docker build -t mywebsite .
# The prebuilt stages come first so that a builder that builds every stage up to its target (Kaniko without
# --skip-unused-stages, the classic Docker builder) never compiles for runtime-prebuilt; BuildKit and buildah
# build only the stages a target needs.

# The Swift image and the runtime libraries come from the same Debian release: the binary links its glibc,
# libssl3, libsqlite3, zlib and libnghttp2.
ARG SWIFT_VERSION=6.3
ARG DEBIAN_RELEASE=bookworm
ARG SWIFT_IMAGE=docker.io/library/swift:${SWIFT_VERSION}-${DEBIAN_RELEASE}
ARG BASE_IMAGE=docker.io/library/debian:${DEBIAN_RELEASE}-slim
# checkov:skip=CKV_DOCKER_7: the FROM lines name build arguments, which checkov cannot resolve; their defaults
# above carry version tags (swift:6.3-bookworm, debian:bookworm-slim), never `latest`.

# ---------------------------------------------------------------------------------------------------------------
# The runtime's shared libraries, and the files an empty root needs: the user, /tmp.
FROM ${BASE_IMAGE} AS base
ARG USER_ID=1000
ARG GROUP_ID=1000
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian's archive keeps only the current version of a package (security updates replace it), so a pinned
# version would soon fail to install; BASE_IMAGE fixes the release. binutils (strip) stays in this stage.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 libsqlite3-0 zlib1g libnghttp2-14 libstdc++6 binutils \
    && rm -rf /var/lib/apt/lists/*
# /rootfs becomes the image's root; /app-dirs the directories the server may write to (mount points).
# Only the service user and group exist: no login shell, no home directory to write to.
RUN mkdir -p /rootfs/etc /rootfs/tmp /app-dirs/data /app-dirs/logs /app-dirs/config \
    && chmod 1777 /rootfs/tmp \
    && printf 'root:x:0:0:root:/nonexistent:/sbin/nologin\nmywebsite:x:%s:%s:mywebsite:/app:/sbin/nologin\n' \
        "${USER_ID}" "${GROUP_ID}" >/rootfs/etc/passwd \
    && printf 'root:x:0:\nmywebsite:x:%s:\n' "${GROUP_ID}" >/rootfs/etc/group

# ---------------------------------------------------------------------------------------------------------------
# The image's root from the prebuilt package: the binary's own libraries (its `ldd` closure, the loader included)
# are copied under /rootfs at the paths the loader looks for them; a library this stage lacks fails the build.
FROM base AS package-prebuilt
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY package.tgz /tmp/package.tgz
# strip: a no-op on a binary stripped already; without it, the symbols double the binary's size.
RUN mkdir /package \
    && tar -xzf /tmp/package.tgz -C /package --no-same-owner \
    && strip --strip-unneeded /package/bin/mywebsite \
    && ! ldd /package/bin/mywebsite | grep 'not found' \
    && ldd /package/bin/mywebsite | grep -o '/[^ ]*' | xargs cp --parents --dereference -t /rootfs

# ---------------------------------------------------------------------------------------------------------------
# The runtime image's settings, shared by both targets.
FROM scratch AS runtime-base
ARG USER_ID=1000
ARG GROUP_ID=1000
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=""
LABEL org.opencontainers.image.title="mywebsite" \
      org.opencontainers.image.description="Bilingual blog engine serving its own HTTP(S)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
# Every setting of `mywebsite serve` (README.md); an empty value means the server's default. LOG_PATH stays empty
# (stdout/stderr only) unless a directory is mounted for the log files: compose.yml sets LOG_PATH=/app/logs.
ENV PATH=/usr/local/bin \
    SITE_MODE=behind-proxy \
    SITE_HOST=0.0.0.0 \
    SITE_PORT=8080 \
    SITE_THREADS="" \
    SITE_LANGUAGES=fr,en \
    SITE_URL=http://localhost:8080 \
    STATIC_ASSETS_PATH=/app/web/static \
    TEMPLATES_PATH=/app/web/templates \
    DATA_PATH=/app/data \
    DATABASE_NAME=site.db \
    LOG_PATH="" \
    CONFIG_PATH=/app/config \
    TLS_CERT="" \
    TLS_KEY="" \
    HTTPS_PORT=443 \
    HTTP_PORT=80 \
    HSTS_MAX_AGE="" \
    REQUIRE_CERTIFICATE="" \
    WATCHDOG_TIMEOUT=30 \
    SHUTDOWN_TIMEOUT=10
WORKDIR /app
USER ${USER_ID}:${GROUP_ID}
# 8080: plain HTTP behind a reverse proxy (SITE_MODE=behind-proxy). With SITE_MODE=direct-tls the server
# listens on HTTPS_PORT (443) and HTTP_PORT (80) instead: below 1024 as a non-root user, run the container with
# the sysctl net.ipv4.ip_unprivileged_port_start=0 (docs/container.md).
EXPOSE 8080
# It probes SITE_PORT. In direct-tls mode the plain listener on HTTP_PORT answers /healthz: set SITE_PORT to that
# port (compose.direct-tls.yml does) or run `mywebsite healthcheck --port 80`.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["mywebsite", "healthcheck"]
# The server is PID 1 and handles SIGTERM itself: it stops accepting, finishes the requests in progress
# (SHUTDOWN_TIMEOUT) and exits 0, so the container's exit code is the server's.
STOPSIGNAL SIGTERM
ENTRYPOINT ["mywebsite"]
CMD ["serve"]

# ---------------------------------------------------------------------------------------------------------------
# Target runtime-prebuilt. Files belong to root and are readable by the service group only: the server cannot
# change its own code or assets; it writes only to the mounted data, log and config directories.
FROM runtime-base AS runtime-prebuilt
ARG USER_ID=1000
ARG GROUP_ID=1000
COPY --from=package-prebuilt /rootfs/ /
COPY --from=package-prebuilt --chown=${USER_ID}:${GROUP_ID} --chmod=0750 /app-dirs/ /app/
COPY --from=package-prebuilt --chown=0:${GROUP_ID} --chmod=0550 /package/bin/mywebsite /usr/local/bin/mywebsite
COPY --from=package-prebuilt --chown=0:${GROUP_ID} --chmod=0550 /package/web/ /app/web/

# ---------------------------------------------------------------------------------------------------------------
# Build from source: only what the server's build reads (.dockerignore keeps the rest out of the context).
FROM ${SWIFT_IMAGE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# As above: the current Debian versions of the development headers.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl-dev libsqlite3-dev zlib1g-dev libnghttp2-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Package.resolved, when present, pins the dependencies; resolving before copying the sources keeps the
# dependency layer cached while only the sources change.
COPY Package.* ./
RUN swift package resolve
COPY Sources ./Sources
# Not built: SwiftPM only checks that every target declared in Package.swift has its directory.
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product mywebsite \
    && install -D --strip -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/mywebsite" \
        /package/bin/mywebsite
COPY web/static /package/web/static
COPY web/templates /package/web/templates

# The image's root from the compiled binary, as package-prebuilt makes it from the package.
FROM base AS package-source
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY --from=build /package/ /package/
RUN test -x /package/bin/mywebsite \
    && ! ldd /package/bin/mywebsite | grep 'not found' \
    && ldd /package/bin/mywebsite | grep -o '/[^ ]*' | xargs cp --parents --dereference -t /rootfs

# ---------------------------------------------------------------------------------------------------------------
# Target runtime (the default): the same image as runtime-prebuilt, from the binary compiled above.
FROM runtime-base AS runtime
ARG USER_ID=1000
ARG GROUP_ID=1000
COPY --from=package-source /rootfs/ /
COPY --from=package-source --chown=${USER_ID}:${GROUP_ID} --chmod=0750 /app-dirs/ /app/
COPY --from=package-source --chown=0:${GROUP_ID} --chmod=0550 /package/bin/mywebsite /usr/local/bin/mywebsite
COPY --from=package-source --chown=0:${GROUP_ID} --chmod=0550 /package/web/ /app/web/
