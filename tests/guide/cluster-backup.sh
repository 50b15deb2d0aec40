#!/bin/bash
# cluster-backup.sh

BACKUP_DIR="/backup/o3storage/$(date +%Y%m%d_%H%M%S)"
NODES=(192.168.1.101 192.168.1.102 192.168.1.103)

mkdir -p "$BACKUP_DIR"

echo "Starting cluster backup..."

# Stop all nodes for consistent backup
for node in "${NODES[@]}"; do
    echo "Stopping node $node..."
    ssh $node "sudo systemctl stop o3storage"
done

# Backup each node's data
for i in "${!NODES[@]}"; do
    node=${NODES[$i]}
    echo "Backing up node $node..."
    
    ssh $node "sudo tar -czf /tmp/node-data.tar.gz /opt/o3storage/data"
    scp $node:/tmp/node-data.tar.gz "$BACKUP_DIR/node-$((i+1))-data.tar.gz"
    ssh $node "sudo rm /tmp/node-data.tar.gz"
done

# Backup cluster configuration
cp cluster.json "$BACKUP_DIR/"

# Restart all nodes
for node in "${NODES[@]}"; do
    echo "Starting node $node..."
    ssh $node "sudo systemctl start o3storage"
done

echo "Cluster backup completed: $BACKUP_DIR"
