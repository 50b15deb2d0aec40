#!/usr/bin/env bash
# Smoke test of the linux-arm64 AOT binary under qemu-user: --version, then a single-node
# --bootstrap that must answer /health with 200 and role leader, then a clean SIGTERM exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
binary="$root/artifacts/linux-arm64/o3storage"
ip=127.0.99.1
[ -x "$binary" ] || { echo "arm64-smoke: no $binary (make publish-arm64)" >&2; exit 1; }

run=()
if [ "$(uname -m)" != aarch64 ]; then
  # The cross toolchain's libc, and arm64 OpenSSL unpacked by tools/install-deps.sh (TLS, the cluster CA).
  run=(env "LD_LIBRARY_PATH=$root/artifacts/arm64-openssl/usr/lib/aarch64-linux-gnu" qemu-aarch64-static -L /usr/aarch64-linux-gnu)
fi

version=$("${run[@]}" "$binary" --version)
echo "arm64-smoke: $version"
[[ "$version" =~ ^o3storage\ [0-9]+\.[0-9]+\.[0-9]+.*\+[0-9a-f]+$ ]] || { echo "arm64-smoke: bad version line" >&2; exit 1; }

data=$(mktemp -d)
log="$data/node.log"
"${run[@]}" "$binary" --ip "$ip" --port 8080 --bootstrap --data "$data/data" > "$log" 2>&1 &
pid=$!
cleanup() { kill -9 "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

for _ in $(seq 1 600); do
  if body=$(curl -fsS --max-time 2 "http://$ip:8080/health" 2>/dev/null); then
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    cat "$log"; echo "arm64-smoke: node exited before serving" >&2; exit 1
  fi
  sleep 0.1
done
[ -n "${body:-}" ] || { cat "$log"; echo "arm64-smoke: no /health 200 within 60 s" >&2; exit 1; }
role=$(jq -r '.cluster.role' <<<"$body")
active=$(jq -r '.cluster.active_nodes' <<<"$body")
[ "$role" = leader ] && [ "$active" = 1 ] || { echo "$body"; echo "arm64-smoke: expected leader with 1 active node" >&2; exit 1; }

kill -TERM "$pid"
# Bounded: a node that hangs on SIGTERM fails the smoke test instead of hanging it.
for _ in $(seq 1 1200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  kill -KILL "$pid"; cat "$log"; echo "arm64-smoke: still running 120 s after SIGTERM" >&2; exit 1
fi
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { cat "$log"; echo "arm64-smoke: exit code $rc after SIGTERM" >&2; exit 1; }
echo "arm64-smoke: /health 200 as leader under qemu-user, clean SIGTERM exit"
