#!/bin/bash
# restore-cluster-from-backup.sh BACKUP_DIR [NODE_IP...]
#
# The guide's "Scenario 3: Complete Cluster Failure", run from the admin machine like cluster-backup.sh:
# puts every node's backup (BACKUP_DIR/node-N-data.tar.gz, as cluster-backup.sh writes them) back on the
# node at the same address and starts the cluster again as it was when the backup was taken (same
# cluster, same objects; whatever was written after the backup is gone). Node N is the Nth address: the
# arguments, else the "ip" of each entry of "nodes" in BACKUP_DIR/cluster.json, in order. Replacement
# boards need the image flashed and their addresses set first; the archives bring back each node's
# identity and data. Each archive is streamed over ssh, so it needs no room in the node's /tmp.
# Every archive is checked before any node is touched; the script stops at the first error.
set -euo pipefail

usage() {
    echo "usage: $0 BACKUP_DIR [NODE_IP...]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
BACKUP_DIR=$1
shift
[ -d "$BACKUP_DIR" ] || { echo "$0: $BACKUP_DIR: no such directory" >&2; exit 2; }
if [ $# -gt 0 ]; then
    NODES=("$@")
elif [ -f "$BACKUP_DIR/cluster.json" ]; then
    mapfile -t NODES < <(jq -r '.nodes[].ip' "$BACKUP_DIR/cluster.json")
else
    echo "$0: name the nodes (NODE_IP...), or keep the cluster.json in $BACKUP_DIR" >&2
    exit 2
fi
[ ${#NODES[@]} -gt 0 ] || { echo "$0: no nodes in $BACKUP_DIR/cluster.json" >&2; exit 2; }

# A restore that stops halfway leaves the cluster worse off than none: check every archive first.
for i in "${!NODES[@]}"; do
    archive="$BACKUP_DIR/node-$((i+1))-data.tar.gz"
    [ -f "$archive" ] || { echo "$0: $archive is missing (one archive per node: node-1 to node-${#NODES[@]})" >&2; exit 1; }
    gzip -t "$archive" || { echo "$0: $archive is damaged" >&2; exit 1; }
done

for node in "${NODES[@]}"; do
    echo "Stopping node $node..."
    ssh "$node" "sudo systemctl stop o3storage"
done

for i in "${!NODES[@]}"; do
    node=${NODES[$i]}
    echo "Restoring node $((i+1)) ($node)..."
    ssh "$node" "sudo rm -rf /opt/o3storage/data/* && sudo tar -xzf - -C /" < "$BACKUP_DIR/node-$((i+1))-data.tar.gz"
    ssh "$node" "sudo chown -R o3storage:o3storage /opt/o3storage/data"
done

# --no-block: a restarted node reports ready once its cluster has a leader, which takes a quorum of them.
for node in "${NODES[@]}"; do
    echo "Starting node $node..."
    ssh "$node" "sudo systemctl start --no-block o3storage"
done

for node in "${NODES[@]}"; do
    for _ in $(seq 1 90); do
        curl -sf "http://$node:8080/health" >/dev/null && break
        sleep 2
    done
    health=$(curl -s "http://$node:8080/health")
    echo "Node $node: $(echo "$health" | jq -r '.status') in cluster $(echo "$health" | jq -r '.cluster.cluster_id') ($(echo "$health" | jq -r '.cluster.cluster_uuid')), $(echo "$health" | jq -r '.cluster.active_nodes') of $(echo "$health" | jq -r '.cluster.total_nodes') nodes active"
done

echo "Cluster restored from $BACKUP_DIR"
