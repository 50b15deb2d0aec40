#!/bin/bash
# health-monitor.sh

NODES=(192.168.1.101 192.168.1.102 192.168.1.103)
ALERT_EMAIL="admin@company.com"

while true; do
    unhealthy_nodes=0
    
    for node in "${NODES[@]}"; do
        if ! curl -f -s http://$node:8080/health >/dev/null; then
            echo "$(date): Node $node is unhealthy!"
            unhealthy_nodes=$((unhealthy_nodes + 1))
        fi
    done
    
    # Alert if quorum is at risk
    if [ $unhealthy_nodes -gt 1 ]; then
        echo "$(date): CRITICAL - Multiple nodes unhealthy!" | \
          mail -s "O3Storage Cluster Alert" $ALERT_EMAIL
    fi
    
    sleep 60
done
