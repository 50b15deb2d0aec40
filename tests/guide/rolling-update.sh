#!/bin/bash
# rolling-update.sh

for node in "${UPDATE_ORDER[@]}"; do
    echo "Updating node $node..."
    
    # Stop service
    ssh $node "sudo systemctl stop o3storage"
    
    # Backup current binary  
    ssh $node "sudo cp /opt/o3storage/o3storage /opt/o3storage/o3storage.backup"
    
    # Deploy new binary
    scp $NEW_BINARY $node:/tmp/o3storage-new
    ssh $node "sudo mv /tmp/o3storage-new /opt/o3storage/o3storage"
    ssh $node "sudo chown o3storage:o3storage /opt/o3storage/o3storage"
    ssh $node "sudo chmod +x /opt/o3storage/o3storage"
    
    # Start service
    ssh $node "sudo systemctl start o3storage"
    
    # Wait for node to rejoin cluster
    echo "Waiting for $node to rejoin cluster..."
    while ! curl -f -s http://$node:8080/health >/dev/null; do
        sleep 5
    done
    
    # Verify cluster health
    active_nodes=$(curl -s http://$node:8080/health | jq '.cluster.active_nodes')
    echo "Node $node rejoined. Cluster has $active_nodes active nodes."
    
    # Wait before updating next node
    echo "Waiting 60 seconds before next update..."
    sleep 60
done

echo "Rolling update completed!"
