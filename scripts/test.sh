#!/usr/bin/env bash
# The README's test command. Installs what the tests need when it is missing (etcd 3.4 from Debian,
# Azurite and s3rver from npm), builds, runs every test project against real etcd, Azurite and s3rver, and ends with
# one line "N passed, N failed" read from the test result files.
set -euo pipefail
cd "$(dirname "$0")/.."

need_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v etcd >/dev/null 2>&1 || ! command -v etcdctl >/dev/null 2>&1; then
  echo "installing etcd (apt-get etcd-server etcd-client)..."
  need_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive need_root apt-get install -y -qq etcd-server etcd-client >/dev/null
  # Debian's package may start a system etcd on 2379; tests use their own ports, but stop it anyway.
  need_root systemctl stop etcd >/dev/null 2>&1 || true
fi
if ! command -v zip >/dev/null 2>&1; then
  echo "installing zip (apt-get zip, for the Functions deployment package)..."
  need_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive need_root apt-get install -y -qq zip >/dev/null
fi
if ! command -v azurite-blob >/dev/null 2>&1; then
  echo "installing Azurite (npm install -g azurite)..."
  need_root npm install -g --no-fund --no-audit azurite >/dev/null
fi
if ! command -v s3rver >/dev/null 2>&1; then
  echo "installing s3rver (npm install -g s3rver)..."
  need_root npm install -g --no-fund --no-audit s3rver >/dev/null
fi
for tool in etcd etcdctl azurite-blob s3rver; do
  command -v "$tool" >/dev/null 2>&1 || { echo "error: required test dependency '$tool' is missing" >&2; exit 1; }
done

results="artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

# The deployment package first: FunctionsPackageTests opens artifacts/packages/functions.zip (and fails without
# it); CI uploads and deploys that same file.
bash scripts/package-functions.sh
# The `dotnet tool` package likewise: ToolPackageTests opens artifacts/packages/etcd-backup.VERSION.nupkg and installs it.
bash scripts/package-tool.sh

status=0
dotnet test EtcdServerless.sln -c Release --logger "trx" --results-directory "$results" "$@" || status=$?

# Count from the TRX files, not from console text: one line CI reads.
passed=0; failed=0; skipped=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters"); t=$(sed -n 's/.* timeout="\([0-9]*\)".*/\1/p' <<<"$counters")
  n=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0})); skipped=$((skipped + ${n:-0}))
done
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "error: no test was executed" >&2
  status=1
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
