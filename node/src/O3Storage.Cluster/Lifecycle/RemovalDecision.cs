// Owns: whether removing a member is safe, and how: at once (a dead node, or force), or by draining
// first (a live node: its replicas move away, then it is removed). Refusals name the reason and the
// way out. Pure: the admin edge calls it with the metadata and one view of who is alive.
using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Lifecycle;

/// <summary>What to do with a removal request.</summary>
public abstract record RemovalVerdict
{
    private protected RemovalVerdict()
    {
    }
}

/// <summary>Remove the member from the metadata and from Raft now (it is down, or the caller forced it).</summary>
public sealed record RemoveNow(string NodeId, bool WasUp) : RemovalVerdict;

/// <summary>Mark the member draining; it is removed once its replicas live elsewhere.</summary>
public sealed record StartDrain(string NodeId) : RemovalVerdict;

/// <summary>The member is draining already; nothing new to do.</summary>
public sealed record AlreadyDraining(string NodeId) : RemovalVerdict;

/// <summary>Not done: <paramref name="Status"/> is 404 (no such member) or 409 (unsafe), with why and what to do.</summary>
public sealed record RemovalRefused(int Status, string Error, string Detail) : RemovalVerdict;

public static class RemovalDecision
{
    public static RemovalVerdict Decide(MetadataState state, MemberLiveness live, string nodeId, bool force)
    {
        if (!state.Members.TryGetValue(nodeId, out MemberRecord? member))
        {
            return state.Removed.TryGetValue(nodeId, out RemovedMember? removed)
                ? new RemovalRefused(404, $"{nodeId} is not a member", $"it was removed at {DateTimeOffset.FromUnixTimeMilliseconds(removed.RemovedUnixMs):u}")
                : new RemovalRefused(404, $"{nodeId} is not a member", $"members: {string.Join(", ", state.Members.Keys)}");
        }

        if (state.Members.Values.FirstOrDefault(m => m.State == MemberState.Draining && m.NodeId != nodeId) is { } other)
        {
            return new RemovalRefused(409, "another removal is in progress", $"{other.NodeId} is draining; remove one node at a time (watch /admin/rebalance-status)");
        }

        if (member.State == MemberState.Draining && !force)
        {
            return new AlreadyDraining(nodeId);
        }

        if (state.Members.Count == 1)
        {
            return new RemovalRefused(409, $"{nodeId} is the last member", "a cluster cannot remove its last node; stop it instead");
        }

        var remaining = state.Members.Keys.Where(id => id != nodeId).ToList();
        int quorum = (remaining.Count / 2) + 1;
        int answering = remaining.Count(live.IsUp);
        if (answering < quorum)
        {
            return new RemovalRefused(409, "the removal would leave no quorum", $"{answering} of the {remaining.Count} remaining members answer; {quorum} are needed; bring members back first");
        }

        int replication = state.Settings?.ReplicationFactor ?? ClusterSettings.DefaultReplicationFactor;
        if (remaining.Count < replication && !force)
        {
            return new RemovalRefused(409, $"the removal would leave {remaining.Count} members, fewer than replication_factor {replication}", "objects would keep only as many copies as members remain; add a node first, or give \"force\": true to accept it");
        }

        bool up = live.IsUp(nodeId);
        if (up && !force)
        {
            return new StartDrain(nodeId);
        }

        // Objects and uploaded parts that no other member holds (up or not): removing their last holder forgets them.
        bool OnlyHere(System.Collections.Immutable.ImmutableArray<BlobRef> blobs, System.Collections.Immutable.ImmutableArray<string> replicas) =>
            blobs.Length > 0 && replicas.Contains(nodeId) && !replicas.Any(r => r != nodeId && state.Members.ContainsKey(r));
        long onlyHere = state.Buckets.Values.SelectMany(b => b.Objects).Count(v => OnlyHere(v.Blobs, v.Replicas))
            + state.Buckets.Values.SelectMany(b => b.Uploads.Values).SelectMany(u => u.Parts.Values).Count(p => OnlyHere(p.Blobs, p.Replicas));
        if (onlyHere > 0 && (up || !force))
        {
            return up
                ? new RemovalRefused(409, $"{onlyHere} objects have their only copy on {nodeId}", "remove it without \"force\" so that it drains first")
                : new RemovalRefused(409, $"{onlyHere} objects have their only copy on {nodeId}, which is down", "they are unreadable until it returns; bring it back, or give \"force\": true to give them up");
        }

        return new RemoveNow(nodeId, up);
    }
}
