#!/bin/bash
# The Durable orchestration path against the previous path (issue 9), side by side in one run, alternating A/B:
#   1. `etcd-backup demo`, wall and CPU (user+sys) of the whole process;
#   2. `etcd-backup backup run` of one etcd member holding SIZE_MB, same data, each CLI with its own store and keys.
# Usage: compare-prevpath.sh PREV_CLI NEW_CLI [RUNS=5] [SIZE_MB=256] [PARTS=demo,backup]
#   PREV_CLI / NEW_CLI: an etcd-backup binary or its .dll, built from each commit (see docs/benchmarks.md).
# Prints one line per run and the medians. Needs etcd and etcdctl on PATH; cleans up after itself.
set -euo pipefail
prev=$1 new=$2 runs=${3:-5} size=${4:-256} parts=${5:-demo,backup}
work=$(mktemp -d /tmp/compare-prevpath.XXXXXX)
etcd_pid=
cleanup() { [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cli() { local bin=$1; shift; if [[ $bin == *.dll ]]; then dotnet "$bin" "$@"; else "$bin" "$@"; fi; }
argv() { if [[ $1 == *.dll ]]; then echo dotnet "$1"; else echo "$1"; fi; }
# Runs one command under /usr/bin/time; prints "wall cpu" in seconds.
timed() { /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" >"$work/out" 2>&1 || { cat "$work/out" >&2; return 1; }; awk '{printf "%.2f %.2f\n", $1, $2+$3}' "$work/time"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- demo ---
for side in prev new; do : >"$work/demo-$side"; done
for ((i = 1; i <= runs; i++)); do
  [[ $parts == *demo* ]] || break
  for side in prev new; do
    bin=${!side}
    read -r wall cpu < <(timed $(argv "$bin") demo)
    echo "$wall $cpu" >>"$work/demo-$side"
    echo "demo   run $i $side: wall ${wall} s, CPU ${cpu} s"
  done
done

# --- backup of SIZE_MB ---
for side in prev new; do : >"$work/backup-$side"; done
if [[ $parts == *backup* ]]; then
client=http://127.0.0.1:$(free_port) peer=http://127.0.0.1:$(free_port)
etcd --name b1 --data-dir "$work/etcd" --listen-client-urls "$client" --advertise-client-urls "$client" \
  --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "b1=$peer" \
  --quota-backend-bytes 8589934592 >"$work/etcd.log" 2>&1 &
etcd_pid=$!
export ETCDCTL_API=3
until etcdctl --endpoints "$client" endpoint health >/dev/null 2>&1; do sleep 0.1; done
# 1 MiB of base64 per key (768 KiB random): text, as etcd values usually are, so compression does real work.
for ((k = 0; k < size; k++)); do
  head -c 786432 /dev/urandom | base64 -w0 | etcdctl --endpoints "$client" put "bench/$(printf %05d "$k")" >/dev/null
done
for side in prev new; do
  mkdir -p "$work/$side"
  cat >"$work/$side/config.json" <<JSON
{ "Store": { "Uri": "file://$work/$side/store" }, "Keys": { "Uri": "file://$work/$side/keys" },
  "Clusters": { "bench": { "Endpoints": [ "$client" ] } } }
JSON
  cli "${!side}" keys init --config "$work/$side/config.json" >/dev/null
done
for ((i = 1; i <= runs; i++)); do
  for side in prev new; do
    read -r wall cpu < <(timed $(argv "${!side}") backup run --config "$work/$side/config.json" -o json)
    echo "$wall $cpu" >>"$work/backup-$side"
    echo "backup run $i $side: wall ${wall} s, CPU ${cpu} s"
  done
done
echo "etcd database: $(etcdctl --endpoints "$client" endpoint status -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["dbSize"])') bytes"
fi

for what in demo backup; do
  [[ -s $work/$what-prev ]] || continue
  for side in prev new; do
    w=$(cut -d' ' -f1 "$work/$what-$side" | median); c=$(cut -d' ' -f2 "$work/$what-$side" | median)
    eval "${what}_${side}_wall=$w ${what}_${side}_cpu=$c"
  done
  eval "pw=\$${what}_prev_wall nw=\$${what}_new_wall pc=\$${what}_prev_cpu nc=\$${what}_new_cpu"
  awk -v w="$what" -v r="$runs" -v pw="$pw" -v nw="$nw" -v pc="$pc" -v nc="$nc" 'BEGIN {
    printf "%-6s median of %d: previous %.2f s wall / %.2f s CPU, Durable path %.2f s wall / %.2f s CPU, ratio wall %.3f, CPU %.3f\n", w, r, pw, pc, nw, nc, nw/pw, nc/pc }'
done
