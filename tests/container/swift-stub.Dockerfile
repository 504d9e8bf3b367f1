# The Swift image's stand-in for run.sh (see swift-stub.sh): Debian with binutils (the Dockerfile strips with
# `install --strip`), the stub as `swift`, and the host's release binary. Not a toolchain, never published.
FROM docker.io/library/debian:bookworm-slim
# checkov:skip=CKV_DOCKER_2: a build-stage stand-in that never runs as a service
# checkov:skip=CKV_DOCKER_3: a build-stage stand-in, root like the Swift image it stands in for
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian's archive keeps only the current version of a package: a pinned version would soon fail to install.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*
COPY --chmod=0755 swift-stub.sh /usr/local/bin/swift
COPY --chmod=0755 mywebsite /opt/mywebsite
