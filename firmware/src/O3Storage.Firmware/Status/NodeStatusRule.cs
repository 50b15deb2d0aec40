// Owns: the one rule that turns the node's facts into the status its LED shows.
// Assumes: the facts are a consistent snapshot taken by the caller; no IO, no clock.
// Faults: none; contradictory facts (leader without quorum) resolve by precedence, never throw.
namespace O3Storage.Firmware.Status;

public static class NodeStatusRule
{
    /// <summary>
    /// Precedence, first match wins: fault, maintenance; before serving: joining, discovering, booting;
    /// while serving: degraded (no quorum or under-replicated), leader, healthy follower.
    /// An operator looking at a board must see the worst thing first, so a faulted node never blinks
    /// "healthy" and a node under maintenance never looks like a cluster problem.
    /// </summary>
    public static NodeStatus Choose(NodeFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (facts.Faulted)
        {
            return NodeStatus.Fault;
        }

        if (facts.MaintenanceOn)
        {
            return NodeStatus.Maintenance;
        }

        if (!facts.Serving)
        {
            // Joining is further along than discovering: a node that does both shows the later stage.
            if (facts.Joining)
            {
                return NodeStatus.Joining;
            }

            return facts.Discovering ? NodeStatus.Discovering : NodeStatus.Booting;
        }

        if (!facts.HasQuorum || facts.UnderReplicated)
        {
            return NodeStatus.Degraded;
        }

        return facts.IsLeader ? NodeStatus.Leader : NodeStatus.FollowerHealthy;
    }
}
