#!/usr/bin/env bash
# make run: a local 3-node cluster on 127.0.0.1-3, port 8080 (like three boards), data under .run/.
# Restarting resumes the same cluster from .run/; `make clean-run` forgets it. Ctrl-C stops all three.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
binary="$root/artifacts/linux-x64/o3storage"
port=${O3_PORT:-8080}
state="$root/.run"
mkdir -p "$state"

pids=()
stop() {
  trap - INT TERM
  echo
  echo "stopping the cluster (SIGTERM: the leader hands over first)..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped; state kept in $state (make clean-run forgets it)"
  exit "${1:-0}"
}
trap stop INT TERM

# The cluster's join token, as an operator copies it to each board (docs/security.md).
if [ ! -s "$state/join-token" ]; then
  (umask 077 && echo "o3t1-$(openssl rand -hex 16)" > "$state/join-token")
fi

start() {
  local n=$1; shift
  "$binary" --ip "127.0.0.$n" --port "$port" --data "$state/node-$n" --join-token-file "$state/join-token" "$@" >> "$state/node-$n.log" 2>&1 &
  pids+=($!)
}

wait_health() {
  for _ in $(seq 1 200); do
    curl -fs --max-time 1 "http://$1:$port/health" > /dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "node $1 did not become healthy; see $state/*.log" >&2
  tail -n 5 "$state"/node-*.log >&2
  stop 1
}

if [ -e "$state/node-1/raft/joined" ]; then
  # Resuming: node 1 alone is one of three members, without a quorum until the others are back.
  start 1 --bootstrap
  start 2 --peers 127.0.0.1
  start 3 --peers 127.0.0.1
  wait_health 127.0.0.1
else
  start 1 --bootstrap
  wait_health 127.0.0.1
  start 2 --peers 127.0.0.1
  start 3 --peers 127.0.0.1
fi
wait_health 127.0.0.2
wait_health 127.0.0.3

cat <<TXT
O3StorageOS: 3 nodes on 127.0.0.1, 127.0.0.2, 127.0.0.3 port $port (logs: $state/node-N.log)

  curl -s http://127.0.0.1:$port/health | jq '.cluster'
  for node in 127.0.0.1 127.0.0.2 127.0.0.3; do curl -s http://\$node:$port/health | jq '.cluster.active_nodes'; done

Ctrl-C stops all three.
TXT
wait
