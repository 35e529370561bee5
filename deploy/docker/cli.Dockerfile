# etcd-backup (the CLI: backup run, serve, restore, ...) as a container image, built from the self-contained
# single-file release archives, not from source:
#   bash scripts/package-release.sh
#   docker buildx build --platform linux/amd64,linux/arm64 -f deploy/docker/cli.Dockerfile -t registry.example.com/etcd-backup:0.1.0 .
# Non-root (UID 1654, the base image's "app" user). Read-only root file system friendly: the program writes only to
# /tmp (snapshot spool; mount a tmpfs or emptyDir) and the declared volumes. No configuration and no secret is in the
# image: mount config.json at /etc/etcd-backup/config.json and pass secrets as files or environment variables.

ARG VERSION=0.1.0

# Unpacks the archive for the target platform after checking it against SHA256SUMS. Runs on the build platform.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble AS unpack
ARG VERSION
ARG TARGETARCH
WORKDIR /release
COPY artifacts/release/SHA256SUMS artifacts/release/etcd-backup-${VERSION}-linux-*.tar.gz ./
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN case "${TARGETARCH}" in amd64) rid=linux-x64 ;; arm64) rid=linux-arm64 ;; *) echo "no archive for ${TARGETARCH}" >&2; exit 1 ;; esac \
    && archive="etcd-backup-${VERSION}-${rid}.tar.gz" \
    && grep -F "  ${archive}" SHA256SUMS | sha256sum -c - \
    && mkdir /out \
    && tar -xzf "${archive}" -C /out --strip-components=1 --no-same-owner \
    && chmod 0555 /out/etcd-backup

# Chiseled: no shell, no package manager; the CLI needs neither (it speaks etcd's gRPC API itself).
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled
ARG VERSION
LABEL org.opencontainers.image.title="etcd-backup" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.description="Scheduled, verified, encrypted etcd backups and one-call restores"
COPY --from=unpack /out/etcd-backup /usr/local/bin/etcd-backup
# The tool's default locations follow XDG for a non-root user; these put them where the Kubernetes examples mount
# volumes: config /etc/etcd-backup/config.json, keys /etc/etcd-backup/keys, local store /var/lib/etcd-backup/store.
ENV XDG_CONFIG_HOME=/etc \
    XDG_STATE_HOME=/var/lib \
    TMPDIR=/tmp
# Keys and backups on separate volumes: a copy of the store must not carry the keys that open it.
VOLUME ["/var/lib/etcd-backup", "/etc/etcd-backup/keys"]
USER 1654:1654
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/etcd-backup"]
CMD ["--help"]
