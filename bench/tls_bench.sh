#!/usr/bin/env bash
# The cost of TLS (issue 18), measured in one run: builds o3storage at the revision before node-to-node
# TLS by default (7d95251: nodes talk in clear unless given the guide's certificates), then runs
# bench/tls_bench.py with it as "plain" beside this tree (mutual TLS between nodes; HTTPS clients too).
# Usage: bench/tls_bench.sh [REVISION] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
revision=${1:-7d95251}
rounds=${2:-3}
binary=$("$root/bench/build-baseline.sh" "$revision")
echo "plain: $("$binary" --version 2>/dev/null || echo "$revision") at $binary"
exec python3 "$root/bench/tls_bench.py" --rounds "$rounds" --baseline "$binary"
