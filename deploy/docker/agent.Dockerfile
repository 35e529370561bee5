# etcd-backup-agent (the member side of a restore) as a container image, built from the self-contained single-file
# release archives, with etcd's own restore tools (etcdutl, etcdctl) copied from etcd's release image:
#   bash scripts/package-release.sh
#   docker buildx build --platform linux/amd64,linux/arm64 -f deploy/docker/agent.Dockerfile \
#     --build-arg ETCD_IMAGE=gcr.io/etcd-development/etcd:v3.5.21 -t registry.example.com/etcd-backup-agent:0.1.0 .
# Match ETCD_IMAGE to the etcd version the cluster runs: the restore is done by that version's etcdutl.
# Non-root by default (UID 1654); the StaticPod DaemonSet (deploy/kubernetes/agent-daemonset.yaml) runs it as root
# because the kubelet's manifests and etcd's data dir are root's (docs/agent.md lists the privileges per mode).
# Read-only root file system friendly: writes go to the data dir's parent (a hostPath volume), /tmp and nothing else.
# No configuration, certificate or key is in the image.

ARG VERSION=0.1.0
ARG ETCD_IMAGE=gcr.io/etcd-development/etcd:v3.5.21

FROM ${ETCD_IMAGE} AS etcd

FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble AS unpack
ARG VERSION
ARG TARGETARCH
WORKDIR /release
COPY artifacts/release/SHA256SUMS artifacts/release/etcd-backup-agent-${VERSION}-linux-*.tar.gz ./
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN case "${TARGETARCH}" in amd64) rid=linux-x64 ;; arm64) rid=linux-arm64 ;; *) echo "no archive for ${TARGETARCH}" >&2; exit 1 ;; esac \
    && archive="etcd-backup-agent-${VERSION}-${rid}.tar.gz" \
    && grep -F "  ${archive}" SHA256SUMS | sha256sum -c - \
    && mkdir /out \
    && tar -xzf "${archive}" -C /out --strip-components=1 --no-same-owner \
    && chmod 0555 /out/etcd-backup-agent

# Not chiseled: hooks and the Custom control mode run shell commands (/bin/sh -c), e.g. moving the kube-apiserver
# manifest aside around a restore.
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble
ARG VERSION
LABEL org.opencontainers.image.title="etcd-backup-agent" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.description="Member agent of etcd-backup: stops etcd, restores its data dir, starts it, over mutual TLS"
COPY --from=etcd /usr/local/bin/etcdutl /usr/local/bin/etcdctl /usr/local/bin/
COPY --from=unpack /out/etcd-backup-agent /usr/local/bin/etcd-backup-agent
ENV TMPDIR=/tmp
USER 1654:1654
EXPOSE 7443
ENTRYPOINT ["/usr/local/bin/etcd-backup-agent"]
CMD ["--config", "/etc/etcd-backup-agent/agent.json"]
