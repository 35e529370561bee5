#!/usr/bin/env bash
# Builds the release archives: self-contained single-file builds of the CLI (etcd-backup) and the member agent
# (etcd-backup-agent) for linux-x64 and linux-arm64, one .tar.gz each, plus SHA256SUMS, in artifacts/release/
# (or the folder given as $1). Each archive holds one folder NAME-VERSION-RID/ with the executable in it; no .NET
# runtime is needed on the target. The container images (deploy/docker/*.Dockerfile) are built from these archives.
#
# Then it checks what it built: the sums verify, and the linux-x64 executables of both programs, extracted from their
# archives into a temporary folder, print the version they were built as (--version). Called by .ci/run.
#   RIDS="linux-x64" bash scripts/package-release.sh   # one platform only (faster local runs)
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-artifacts/release}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
rids="${RIDS:-linux-x64 linux-arm64}"
version=$(dotnet msbuild src/EtcdServerless.Cli -getProperty:Version)
[ -n "$version" ] || { echo "error: could not read the version from Directory.Build.props" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
rm -rf "$out"
mkdir -p "$out"

publish() { # project executable rid
  local project="$1" name="$2" rid="$3"
  local folder="$name-$version-$rid"
  local started=$SECONDS
  # Single file, self-contained, no symbols in the archive (DebugType=none). Where the project precompiles
  # (ReadyToRun, the CLI), the SDK would default a single file to a composite image that recompiles the whole
  # .NET framework too (20+ minutes of crossgen here); the framework ships precompiled already, so only the
  # application's own assemblies are compiled (PublishReadyToRunComposite=false).
  dotnet publish "src/$project" -c Release -r "$rid" --self-contained \
    -p:PublishSingleFile=true -p:PublishReadyToRunComposite=false -p:DebugType=none -p:GenerateDocumentationFile=false \
    -o "$stage/$folder" --nologo -v quiet
  [ -x "$stage/$folder/$name" ] || { echo "error: dotnet publish of $project for $rid produced no $name" >&2; exit 1; }
  # Deterministic archive: sorted entries, fixed owner, the commit's time as every file's time.
  local mtime
  mtime=$(git log -1 --format=%cI 2>/dev/null || echo "2000-01-01T00:00:00Z")
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="$mtime" -C "$stage" -cf - "$folder" | gzip -n -6 > "$out/$folder.tar.gz"
  echo "package-release: $folder.tar.gz ($(du -k "$out/$folder.tar.gz" | cut -f1) KiB, $((SECONDS - started)) s)"
}

for rid in $rids; do
  publish EtcdServerless.Cli etcd-backup "$rid"
  publish EtcdServerless.Agent etcd-backup-agent "$rid"
done

(cd "$out" && sha256sum -- *.tar.gz > SHA256SUMS)
(cd "$out" && sha256sum --quiet -c SHA256SUMS)

# Smoke check as a user would: extract from the archive, run the program.
case " $rids " in
  *" linux-x64 "*)
    check=$(mktemp -d)
    for name in etcd-backup etcd-backup-agent; do
      tar -xzf "$out/$name-$version-linux-x64.tar.gz" -C "$check"
      printed=$("$check/$name-$version-linux-x64/$name" --version)
      case "$printed" in
        "$version"|"$version+"*) echo "package-release: $name-$version-linux-x64/$name --version: $printed" ;;
        *) echo "error: $name from the linux-x64 archive printed '$printed' for --version, expected $version" >&2; rm -rf "$check"; exit 1 ;;
      esac
    done
    rm -rf "$check"
    ;;
esac
echo "package-release: $out (SHA256SUMS verified)"
