#!/usr/bin/env bash
# Boot time of the OS image to /health 200 under qemu-system-aarch64 (TCG, -smp 2 -m 1024): the
# first boot (provisioning, data partition, node bootstrap) and a reboot, over RUNS fresh copies of
# the image (each run is a whole `image/test-image.sh`). Software emulation on a shared 2-core
# machine: compare runs made side by side, not with a real board.
# Usage: bench/image_bench.sh IMAGE [RUNS]   (default 3)
set -euo pipefail
image=${1:?usage: image_bench.sh IMAGE [RUNS]}
runs=${2:-3}
first=()
second=()
for run in $(seq 1 "$runs"); do
  log=$(mktemp)
  if ! image/test-image.sh "$image" >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
  fi
  first+=("$(sed -n 's/^boot-to-health first-boot \([0-9]*\) s$/\1/p' "$log")")
  second+=("$(sed -n 's/^boot-to-health second-boot \([0-9]*\)+5 s.*/\1/p' "$log")")
  second[-1]=$((second[-1] + 5))
  echo "run $run: first boot ${first[-1]} s, reboot ${second[-1]} s to /health 200"
  rm -f "$log"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "median over $runs runs: first boot $(median "${first[@]}") s, reboot $(median "${second[@]}") s to /health 200"
