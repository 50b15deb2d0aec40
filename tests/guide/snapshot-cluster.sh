#!/bin/bash
# snapshot-cluster.sh

SNAPSHOT_NAME="snapshot-$(date +%Y%m%d_%H%M%S)"
NODES=(192.168.1.101 192.168.1.102 192.168.1.103)

# Create consistent snapshot across all nodes
for node in "${NODES[@]}"; do
    curl -X POST http://$node:8080/admin/snapshot \
      -d "{\"name\": \"$SNAPSHOT_NAME\"}"
done

echo "Snapshot created: $SNAPSHOT_NAME"
