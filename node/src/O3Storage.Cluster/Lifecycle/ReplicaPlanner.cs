// Owns: deciding, from the metadata and one view of who is alive, which objects must move and where:
// repair (fewer live holders than wanted), drain (a holder is leaving) and rebalance (placement
// changed after a membership change) are one rule: every object converges on its placement among the
// members that may hold new replicas. Pure; the copying and the commit are the data path's.
// Invariants of every move: copies go only to members that answer now; replicas leave an object only
// in the same commit that names a complete target set, and only once every member of that set holds
// it, so a move never leaves an object on fewer live holders than before; a holder that is down but
// within the grace is never dropped (a rolling update's restart moves nothing).
using System.Collections.Immutable;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Placement;

namespace O3Storage.Cluster.Lifecycle;

/// <summary>Why an object moves; repairs go first.</summary>
public enum MoveReason
{
    Repair,
    Drain,
    Rebalance,
}

/// <summary>
/// One object's move: copy its blobs from <see cref="Sources"/> to <see cref="CopyTo"/>, then commit
/// <see cref="Replicas"/> for exactly <see cref="Version"/>. When a copy fails, only the holders that
/// exist plus the copies that succeeded may be committed (<see cref="WithoutDrops"/>).
/// </summary>
public sealed record ReplicaMove(string Bucket, ObjectVersion Version, ImmutableArray<string> Sources, ImmutableArray<string> CopyTo, ImmutableArray<string> Replicas, MoveReason Reason)
{
    public long Bytes => Version.SizeBytes * CopyTo.Length;

    /// <summary>The replica set to commit when only <paramref name="copied"/> of the copies succeeded: nothing dropped, the copies added.</summary>
    public ImmutableArray<string> WithoutDrops(IReadOnlyCollection<string> copied) =>
        [.. Version.Replicas, .. copied.Where(c => !Version.Replicas.Contains(c))];
}

/// <summary>Objects and bytes a node holds, or will hold once placement is reached.</summary>
public sealed record NodeLoad(long Objects, long Bytes);

/// <summary>The cluster's distance from its placement, at one instant.</summary>
/// <param name="UnderReplicated">Objects on fewer live holders than min(replication_factor, members).</param>
/// <param name="Misplaced">Objects with a move to make (repair, drain or rebalance) that can be made now.</param>
public sealed record PlacementSurvey(long Objects, long UnderReplicated, long Misplaced, long MisplacedBytes, IReadOnlyDictionary<string, NodeLoad> Now, IReadOnlyDictionary<string, NodeLoad> Target);

public static class ReplicaPlanner
{
    /// <summary>The move <paramref name="version"/> needs now, or null when it is where it belongs (or cannot move now).</summary>
    public static ReplicaMove? PlanOne(MetadataState state, MemberLiveness live, string bucket, ObjectVersion version)
    {
        PlacementPlan placement = ObjectPlacement.Place(state, bucket, version.Key, id => !live.IsDead(id));
        IEnumerable<string> target = placement.Ranked.Take(placement.Wanted);
        ImmutableArray<string> holders = [.. version.Replicas.Where(state.Members.ContainsKey)];
        ImmutableArray<string> sources = [.. holders.Where(live.IsUp)];
        ImmutableArray<string> copyTo = [.. target.Where(t => !holders.Contains(t) && live.IsUp(t))];
        if (!copyTo.IsEmpty && sources.IsEmpty && version.Blobs.Length > 0)
        {
            return null; // no holder answers now to copy from: nothing to do until one does
        }

        bool complete = target.All(t => holders.Contains(t) || copyTo.Contains(t));
        // Replicas on nodes that are not members (of an earlier incarnation of the cluster, not joined
        // again yet, or across a split) stay listed: they cost nothing here, and a node that joins again
        // keeps the copies it holds instead of receiving them anew.
        ImmutableArray<string> elsewhere = [.. version.Replicas.Where(r => !state.Members.ContainsKey(r))];
        ImmutableArray<string> replicas = complete
            ? [.. target, .. holders.Where(h => !target.Contains(h) && !live.IsUp(h) && !live.IsDead(h)), .. elsewhere]
            : [.. holders, .. copyTo, .. elsewhere];
        if (copyTo.IsEmpty && replicas.Length == version.Replicas.Length && replicas.All(version.Replicas.Contains))
        {
            return null;
        }

        int liveHolders = holders.Count(h => !live.IsDead(h));
        MoveReason reason = liveHolders < placement.Wanted ? MoveReason.Repair
            : holders.Any(h => state.Members[h].State == MemberState.Draining) ? MoveReason.Drain
            : MoveReason.Rebalance;
        return new ReplicaMove(bucket, version, sources, copyTo, replicas, reason);
    }

    /// <summary>Up to <paramref name="max"/> moves, repairs first, then drains, then rebalancing; each in key order.</summary>
    public static List<ReplicaMove> Plan(MetadataState state, MemberLiveness live, int max)
    {
        var byReason = new List<ReplicaMove>[3] { [], [], [] };
        foreach ((string bucket, ObjectVersion version) in Objects(state))
        {
            if (PlanOne(state, live, bucket, version) is { } move && byReason[(int)move.Reason].Count < max)
            {
                byReason[(int)move.Reason].Add(move);
            }
        }

        return [.. byReason.SelectMany(moves => moves).Take(max)];
    }

    /// <summary>How far the cluster is from its placement: under-replicated and misplaced objects, and each node's load now and at target.</summary>
    public static PlacementSurvey Survey(MetadataState state, MemberLiveness live)
    {
        var tally = new Tally(state.Members.Keys.ToDictionary(id => id, _ => new NodeLoad(0, 0), StringComparer.Ordinal));
        foreach ((string bucket, ObjectVersion version) in Objects(state))
        {
            tally.Add(state, live, bucket, version, +1);
        }

        return tally.ToSurvey();
    }

    /// <summary>
    /// The survey of <paramref name="after"/>, from <paramref name="last"/> (the survey of <paramref name="before"/>)
    /// and the objects that changed between them: each one's share of the old survey taken out and its share
    /// of the new one added, O(changes) instead of O(objects). Only while the members, the settings and
    /// <paramref name="live"/> are those <paramref name="last"/> was made with: an object's share depends on them.
    /// </summary>
    public static PlacementSurvey Update(PlacementSurvey last, MetadataState before, MetadataState after, MemberLiveness live, IEnumerable<(string Bucket, string Key)> changed)
    {
        var tally = new Tally(last);
        foreach ((string bucket, string key) in changed)
        {
            if (before.FindObject(bucket, key) is { } old)
            {
                tally.Add(before, live, bucket, old, -1);
            }

            if (after.FindObject(bucket, key) is { } now)
            {
                tally.Add(after, live, bucket, now, +1);
            }
        }

        return tally.ToSurvey();
    }

    /// <summary>A survey's counts while they are being made: each object adds its share (or, gone, takes it out).</summary>
    private sealed class Tally
    {
        private readonly Dictionary<string, NodeLoad> _now;
        private readonly Dictionary<string, NodeLoad> _target;
        private long _objects, _under, _misplaced, _misplacedBytes;

        public Tally(Dictionary<string, NodeLoad> empty)
        {
            _now = empty;
            _target = new Dictionary<string, NodeLoad>(empty, StringComparer.Ordinal);
        }

        public Tally(PlacementSurvey last)
        {
            _now = new Dictionary<string, NodeLoad>(last.Now, StringComparer.Ordinal);
            _target = new Dictionary<string, NodeLoad>(last.Target, StringComparer.Ordinal);
            (_objects, _under, _misplaced, _misplacedBytes) = (last.Objects, last.UnderReplicated, last.Misplaced, last.MisplacedBytes);
        }

        public void Add(MetadataState state, MemberLiveness live, string bucket, ObjectVersion version, int sign)
        {
            int wantedForCount = Math.Min(state.Settings?.ReplicationFactor ?? ClusterSettings.DefaultReplicationFactor, state.Members.Count);
            _objects += sign;
            if (version.Replicas.Count(r => state.Members.ContainsKey(r) && !live.IsDead(r)) < wantedForCount)
            {
                _under += sign;
            }

            Count(_now, version.Replicas, version.SizeBytes, sign);
            ReplicaMove? move = PlanOne(state, live, bucket, version);
            if (move is not null)
            {
                _misplaced += sign;
                _misplacedBytes += sign * move.Bytes;
            }

            Count(_target, move?.Replicas ?? version.Replicas, version.SizeBytes, sign);
        }

        public PlacementSurvey ToSurvey() => new(_objects, _under, _misplaced, _misplacedBytes, _now, _target);

        private static void Count(Dictionary<string, NodeLoad> loads, IEnumerable<string> replicas, long bytes, int sign)
        {
            foreach (string replica in replicas)
            {
                if (loads.TryGetValue(replica, out NodeLoad? load))
                {
                    loads[replica] = new NodeLoad(load.Objects + sign, load.Bytes + (sign * bytes));
                }
            }
        }
    }

    private static IEnumerable<(string Bucket, ObjectVersion Version)> Objects(MetadataState state) =>
        state.Buckets.Values.SelectMany(b => b.Objects.Select(v => (b.Info.Name, v)));
}
