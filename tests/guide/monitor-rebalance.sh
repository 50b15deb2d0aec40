#!/bin/bash
# monitor-rebalance.sh

while true; do
    echo "$(date): Checking rebalance status..."
    
    for node in 192.168.1.101 192.168.1.102 192.168.1.103 192.168.1.104 192.168.1.105; do
        objects=$(curl -s http://$node:8080/health | jq '.storage.total_objects')
        echo "Node $node: $objects objects"
    done
    
    echo "---"
    sleep 30
done
