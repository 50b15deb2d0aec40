// Owns: which member the leader may take out of the cluster on its own: a draining member that holds
// nothing any more (its drain is done), or a member dead past the grace whose objects were all rebuilt
// elsewhere, as long as at least three voters remain (Consul autopilot's dead-server cleanup: a dead
// voter still counts toward the quorum, so a five-node cluster with two dead boards would stop at the
// next failure) and the rest keep a quorum. Pure.
using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Lifecycle;

public static class MembershipCleanup
{
    /// <summary>Autopilot never shrinks the voters below this (a smaller cluster is left as the operator made it).</summary>
    public const int VotersMin = 3;

    /// <summary>
    /// A draining member that no current object and no part of an upload in progress names as a replica
    /// any more (its drain is complete), when removing it keeps a quorum of the rest answering.
    /// </summary>
    public static string? DrainedMember(MetadataState state, MemberLiveness live) =>
        state.Members.Values.FirstOrDefault(m => m.State == MemberState.Draining && HoldsNothing(state, m.NodeId) && KeepsQuorum(state, live, m.NodeId))?.NodeId;

    /// <summary>No current object version and no uploaded part lists <paramref name="nodeId"/> as a replica.</summary>
    public static bool HoldsNothing(MetadataState state, string nodeId) =>
        state.ObjectsByReplica.GetValueOrDefault(nodeId) == 0
        && !state.Buckets.Values.Any(b => b.Uploads.Values.Any(u => u.Parts.Values.Any(p => p.Replicas.Contains(nodeId))));

    private static bool KeepsQuorum(MetadataState state, MemberLiveness live, string nodeId)
    {
        var remaining = state.Members.Keys.Where(m => m != nodeId).ToList();
        return remaining.Count(live.IsUp) >= (remaining.Count / 2) + 1;
    }

    /// <summary>The member dead longest whose objects now all live elsewhere, when removing it keeps three voters and a quorum; else null.</summary>
    public static string? DeadMember(MetadataState state, MemberLiveness live)
    {
        if (state.Members.Count - 1 < VotersMin)
        {
            return null;
        }

        foreach (string id in state.Members.Keys.Where(live.IsDead).OrderBy(id => live.Since(id)))
        {
            if (!HoldsNothing(state, id))
            {
                continue; // re-replication has not finished with it (or an upload in progress has parts there)
            }

            if (KeepsQuorum(state, live, id))
            {
                return id;
            }
        }

        return null;
    }
}
