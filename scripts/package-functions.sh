#!/usr/bin/env bash
# Builds the Function App deployment package: `dotnet publish` of src/EtcdServerless.Functions (Release),
# zipped with the publish folder as the zip root (what `az functionapp deployment source config-zip`
# expects): functions.metadata, extensions.json, host.json, worker.config.json, the worker and the
# .azurefunctions/ extension bundle. Output: artifacts/packages/functions.zip (or the path given as $1).
# Called by .ci/run before the tests (tests/EtcdServerless.Infra.Tests/Deploy/FunctionsPackageTests opens
# the zip) and by .github/workflows/deploy.yml, which uploads that same file for the deploy jobs.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-artifacts/packages/functions.zip}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
publish="artifacts/packages/functions"

command -v zip >/dev/null 2>&1 || { echo "error: zip is not installed (apt-get install zip)" >&2; exit 1; }
rm -rf "$publish"
mkdir -p "$publish" "$(dirname "$out")"
dotnet publish src/EtcdServerless.Functions -c Release -o "$publish" --nologo -v quiet

for required in functions.metadata extensions.json host.json worker.config.json EtcdServerless.Functions.dll; do
  [ -f "$publish/$required" ] || { echo "error: dotnet publish produced no $required" >&2; exit 1; }
done

rm -f "$out"
# -X: no extra file attributes, so the same publish output gives the same entries.
(cd "$publish" && zip -qrX "$out" .)
echo "package-functions: $out ($(du -k "$out" | cut -f1) KiB)"
