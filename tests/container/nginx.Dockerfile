# A local stand-in for the official `nginx:stable` image, which cannot be pulled here: Debian's nginx on the
# debootstrapped Debian image, laid out like the official one where compose.yml relies on it (the `nginx` user
# with UID/GID 101, curl for healthchecks, `nginx -g 'daemon off;'` in the foreground, SIGQUIT for a graceful
# stop).
# Built by tests/container/base-images.sh as docker.io/library/nginx:stable.
FROM docker.io/library/debian:bookworm-slim
# Like the official image, this one has no USER and no HEALTHCHECK: compose.yml sets both (`user: 101:101`,
# a curl healthcheck), as it must for the official image.
# checkov:skip=CKV_DOCKER_2: the healthcheck is compose.yml's, as for the official image this stands in for
# checkov:skip=CKV_DOCKER_3: the user is compose.yml's (`user: 101:101`), as for the official image

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian's archive keeps only the current version of a package: a pinned version would soon fail to install.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx-light curl \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* \
    && groupadd --system --gid 101 nginx \
    && useradd --system --uid 101 --gid nginx --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nginx \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log

EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
