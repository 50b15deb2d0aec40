// Owns: where one object's replicas belong: rendezvous over the members that may take new replicas
// (active, not draining, not given up as dead), replication_factor of them, capped at how many there are.
// Pure: the same state and the same view of who is alive give the same answer on every node.
using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Placement;

/// <summary>Where an object goes: the candidate members, best first; how many replicas to store; how many must hold it for a write to count.</summary>
public sealed record PlacementPlan(IReadOnlyList<string> Ranked, int Wanted, int Minimum);

public static class ObjectPlacement
{
    /// <summary>
    /// The placement of <paramref name="key"/> in <paramref name="bucket"/> among the active members that
    /// <paramref name="eligible"/> accepts (all active members when it is null). A write needs two replicas
    /// (one when only one is wanted), so an acknowledged object survives the loss of any one disk even
    /// while a holder is down. With no eligible member at all, every member is a candidate: a write then
    /// fails on its own terms rather than for want of a list.
    /// </summary>
    public static PlacementPlan Place(MetadataState state, string bucket, string key, Func<string, bool>? eligible = null)
    {
        var candidates = state.Members.Values
            .Where(m => m.State == MemberState.Active && (eligible is null || eligible(m.NodeId)))
            .Select(m => new PlacementCandidate(m.NodeId, 1.0))
            .ToList();
        if (candidates.Count == 0)
        {
            candidates = [.. state.Members.Keys.Select(id => new PlacementCandidate(id, 1.0))];
        }

        IReadOnlyList<string> ranked = candidates.Count == 0 ? [] : RendezvousPlacement.Choose(Key(bucket, key), candidates, candidates.Count);
        int wanted = Math.Min(state.Settings?.ReplicationFactor ?? ClusterSettings.DefaultReplicationFactor, ranked.Count);
        return new PlacementPlan(ranked, wanted, Math.Min(2, wanted));
    }

    /// <summary>The bytes placement hashes: bucket, a NUL (never in a bucket name), key.</summary>
    public static byte[] Key(string bucket, string key) => System.Text.Encoding.UTF8.GetBytes($"{bucket}\0{key}");
}
