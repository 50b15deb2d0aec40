#!/bin/bash
# cluster-metrics.sh

while true; do
    clear
    echo "O3Storage Cluster Metrics - $(date)"
    echo "================================="
    
    for node in 192.168.1.101 192.168.1.102 192.168.1.103; do
        echo "Node $node:"
        health=$(curl -s http://$node:8080/health 2>/dev/null)
        
        if [ $? -eq 0 ]; then
            objects=$(echo "$health" | jq -r '.storage.total_objects')
            used_space=$(echo "$health" | jq -r '.storage.used_space_bytes')
            active_nodes=$(echo "$health" | jq -r '.cluster.active_nodes')
            
            echo "  Objects: $objects"
            echo "  Used Space: $(numfmt --to=iec-i --suffix=B $used_space)"
            echo "  Cluster Size: $active_nodes nodes"
        else
            echo "  Status: UNREACHABLE"
        fi
        echo ""
    done
    
    sleep 10
done
