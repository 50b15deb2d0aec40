#!/usr/bin/env bash
# The cost of a change to the write path, measured in one run: builds o3storage at a git revision (default:
# the commit before durable commits) into .bench/baseline, then runs the 4 KiB part of the object benchmark
# with three clusters side by side: this tree, that revision, and etcd.
# Usage: bench/durability_bench.sh [REVISION] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
revision=${1:-af98a3e}
rounds=${2:-3}
binary=$("$root/bench/build-baseline.sh" "$revision")
echo "baseline: $("$binary" --version 2>/dev/null || echo "$revision") at $binary"
exec python3 "$root/bench/object_bench.py" --rounds "$rounds" --baseline "$binary" --small-only
