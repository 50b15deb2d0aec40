#!/usr/bin/env bash
# Power-on to a healthy 3-node cluster of QEMU boards (TCG, -smp 1, 512 MiB each) made from one image,
# each card with only o3storage.txt: RUNS rounds of `image/test-fleet.sh --formation-only`, fresh cards
# each time. Three emulated boards share this machine's two cores: compare runs made side by side.
# Usage: bench/fleet_bench.sh IMAGE [RUNS]   (default 3)
set -euo pipefail
image=${1:?usage: fleet_bench.sh IMAGE [RUNS]}
runs=${2:-3}
times=()
for run in $(seq 1 "$runs"); do
  log=$(mktemp)
  if ! image/test-fleet.sh --formation-only "$image" >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
  fi
  times+=("$(sed -n 's/^fleet-formation \([0-9]*\) s.*/\1/p' "$log")")
  echo "run $run: ${times[-1]} s from power-on to a healthy 3-node cluster"
  rm -f "$log"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "median over $runs runs: $(median "${times[@]}") s from power-on to a healthy 3-node cluster"
