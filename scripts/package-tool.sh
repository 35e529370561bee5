#!/usr/bin/env bash
# Builds the `dotnet tool` package of the CLI (package id and command: etcd-backup) into artifacts/packages/ (or the
# folder given as $1), then installs it from that folder as a user would, into a temporary tool path with a private
# NuGet package folder (so a cached package of the same version can never stand in for the new one), and runs
# `etcd-backup --version` from the install. Called by scripts/test.sh before the tests
# (tests/EtcdServerless.Infra.Tests/Packaging/ToolPackageTests opens and installs the same package).
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-artifacts/packages}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
mkdir -p "$out"
rm -f "$out"/etcd-backup.*.nupkg
dotnet pack src/EtcdServerless.Cli -c Release -o "$out" --nologo -v quiet
version=$(dotnet msbuild src/EtcdServerless.Cli -getProperty:Version)
package="$out/etcd-backup.$version.nupkg"
[ -f "$package" ] || { echo "error: dotnet pack produced no $package" >&2; exit 1; }

tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
NUGET_PACKAGES="$tools/nuget" dotnet tool install --tool-path "$tools/bin" --add-source "$out" etcd-backup --version "$version" >/dev/null
printed=$("$tools/bin/etcd-backup" --version)
case "$printed" in
  "$version"|"$version+"*) ;;
  *) echo "error: the installed tool printed '$printed' for --version, expected $version" >&2; exit 1 ;;
esac
echo "package-tool: $package ($(du -k "$package" | cut -f1) KiB); installed from $out, etcd-backup --version: $printed"
