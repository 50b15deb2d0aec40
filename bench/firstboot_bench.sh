#!/usr/bin/env bash
# Time from power-on to a 3-node cluster over real mDNS, and for a late fourth board to join:
# runs the first-boot end-to-end test ROUNDS times (tests/firstboot) and prints each time and the
# medians. Usage: bench/firstboot_bench.sh BINARY [ROUNDS]   (root; results go in docs/benchmarks.md)
set -euo pipefail
binary=$1
rounds=${2:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
form=()
late=()
for round in $(seq 1 "$rounds"); do
  out=$(python3 "$root/tests/firstboot/test_firstboot.py" "$binary")
  if ! grep -q '^firstboot: passed' <<<"$out"; then
    echo "$out" >&2
    echo "round $round failed" >&2
    exit 1
  fi
  f=$(sed -n 's/^firstboot-seconds: //p' <<<"$out")
  l=$(sed -n 's/^late-join-seconds: //p' <<<"$out")
  form+=("$f")
  late+=("$l")
  echo "round $round: 3-node cluster in $f s, late board joined in $l s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "median: 3-node cluster in $(median "${form[@]}") s, late join in $(median "${late[@]}") s over $rounds rounds"
