#!/bin/bash
# The manual etcd 3.4 restore runbook, as an operator would script it: stop every member, restore the same
# snapshot on each with the flags, move the old data dir aside, start all, wait until every member is healthy.
# Usage: restore-runbook.sh SNAPSHOT TOKEN INITIAL_CLUSTER PIDFILE_OUT then one "name|dataDir|clientUrl|peerUrl|pid" per member.
set -euo pipefail
export ETCDCTL_API=3
snapshot=$1 token=$2 initial=$3 pidfile=$4
shift 4
members=("$@")
for m in "${members[@]}"; do IFS='|' read -r _ _ _ _ pid <<<"$m"; kill -TERM "$pid" 2>/dev/null || true; done
for m in "${members[@]}"; do IFS='|' read -r _ _ _ _ pid <<<"$m"; while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done; done
for m in "${members[@]}"; do
  IFS='|' read -r name dir client peer _ <<<"$m"
  ( etcdctl snapshot restore "$snapshot" --name "$name" --initial-cluster "$initial" --initial-cluster-token "$token" \
      --initial-advertise-peer-urls "$peer" --data-dir "$dir.restored" >/dev/null 2>&1
    mv "$dir" "$dir.old"; mv "$dir.restored" "$dir" ) &
done
wait
: >"$pidfile"
for m in "${members[@]}"; do
  IFS='|' read -r name dir client peer _ <<<"$m"
  nohup etcd --name "$name" --data-dir "$dir" --listen-client-urls "$client" --advertise-client-urls "$client" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" >>"$dir.log" 2>&1 &
  echo $! >>"$pidfile"
done
for m in "${members[@]}"; do
  IFS='|' read -r _ _ client _ _ <<<"$m"
  until etcdctl --endpoints "$client" endpoint health >/dev/null 2>&1; do sleep 0.1; done
done
