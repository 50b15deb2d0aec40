namespace O3Storage.Cluster.Raft;

/// <summary>The Raft role of this node as users see it on <c>/health</c>.</summary>
public enum NodeRole
{
    /// <summary>Not (yet) part of the configuration: waiting to be added, or leaving.</summary>
    Standby,
    Follower,
    /// <summary>No leader known: an election is under way or quorum is lost.</summary>
    Candidate,
    Leader,
}

public static class NodeRoleNames
{
    public static string ToWireName(this NodeRole role) => role switch
    {
        NodeRole.Standby => "standby",
        NodeRole.Follower => "follower",
        NodeRole.Candidate => "candidate",
        NodeRole.Leader => "leader",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "unknown role"),
    };
}
