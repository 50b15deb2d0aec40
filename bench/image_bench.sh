#!/usr/bin/env bash
# Boot time of the OS image to /health 200 under qemu-system-aarch64 (TCG, -smp 2 -m 1024): the
# first boot (provisioning, data partition, node bootstrap) and a reboot, over RUNS fresh copies of
# the image (each run is a whole `image/test-image.sh`). Software emulation on a shared 2-core
# machine: compare runs made side by side, not with a real board. With BASELINE (an earlier image),
# the two alternate run by run, so both see the same machine.
# Usage: bench/image_bench.sh IMAGE [RUNS] [BASELINE]   (default 3 runs)
set -euo pipefail
image=${1:?usage: image_bench.sh IMAGE [RUNS] [BASELINE]}
runs=${2:-3}
baseline=${3:-}
images=("$image")
[ -z "$baseline" ] || images=("$baseline" "$image")
declare -A first=() second=()
for run in $(seq 1 "$runs"); do
  for candidate in "${images[@]}"; do
    log=$(mktemp)
    if ! image/test-image.sh "$candidate" >"$log" 2>&1; then
      # A baseline fails the checks added since it was built; its times still count, if it booted twice.
      if [ "$candidate" = "$baseline" ] && grep -q '^boot-to-health second-boot' "$log"; then
        echo "  (baseline $(basename "$candidate"): $(grep -c '^  FAIL' "$log") check(s) it predates failed: $(grep '^  FAIL' "$log" | cut -c9-80 | paste -sd';'))"
      else
        cat "$log" >&2
        exit 1
      fi
    fi
    up=$(sed -n 's/^boot-to-health first-boot \([0-9]*\) s$/\1/p' "$log")
    # "second-boot UP+DOWN s": to /health once the old system stopped answering, plus the wait for that.
    again=$(sed -n 's/^boot-to-health second-boot \([0-9]*\)+\([0-9]*\) s.*/\1 + \2/p' "$log")
    again=$((again))
    first[$candidate]+="$up "
    second[$candidate]+="$again "
    echo "run $run, $(basename "$candidate"): first boot $up s, reboot $again s to /health 200"
    sed -n '/^boot profile/,/^[a-z]/p' "$log" | grep '^  |' | sed "s|^|  $(basename "$candidate") |"
    rm -f "$log"
  done
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for candidate in "${images[@]}"; do
  # shellcheck disable=SC2086 # the lists are space-separated numbers
  echo "median over $runs runs, $(basename "$candidate"): first boot $(median ${first[$candidate]}) s, reboot $(median ${second[$candidate]}) s to /health 200"
done
