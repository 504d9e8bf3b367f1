# A local stand-in for the official `prom/prometheus` image, which cannot be pulled here: Debian's prometheus on
# the debootstrapped Debian image, laid out like the official one where compose.yml relies on it (/bin/prometheus
# as the entrypoint (bookworm merges /bin into /usr/bin), /bin/promtool, the `nobody` user, data under /prometheus).
# Built by tests/container/base-images.sh as localhost/mywebsite-ct-prometheus:latest.
FROM docker.io/library/debian:bookworm-slim
# checkov:skip=CKV_DOCKER_2: the healthcheck is compose.yml's, as for the official image
# checkov:skip=CKV_DOCKER_3: the official image runs as nobody through USER below; compose.yml sets it too

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian's archive keeps only the current version of a package: a pinned version would soon fail to install.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends prometheus \
    && rm -rf /var/lib/apt/lists/* \
    && test -x /bin/prometheus && test -x /bin/promtool \
    && mkdir -p /prometheus && chown 65534:65534 /prometheus

USER 65534:65534
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
