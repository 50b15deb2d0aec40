using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;

namespace O3Storage.Cluster.Health;

/// <summary>Everything the health report is computed from, captured at one instant.</summary>
public sealed record HealthInputs(
    string NodeId,
    Guid NodeUuid,
    string ClusterEndPoint,
    string Version,
    TimeSpan Uptime,
    NodeRole Role,
    long Term,
    string? LeaderClusterEndPoint,
    IReadOnlyList<string> ConfigurationEndPoints,
    MetadataState Metadata,
    StorageHealth Storage,
    AuthHealth? Auth = null,
    HardwareHealth? Hardware = null)
{
    /// <summary>The one-line rebalance summary for /health.</summary>
    public string Rebalance { get; init; } = "idle";

    /// <summary>The leader's rebalance pass in numbers; null on a follower (it runs none).</summary>
    public Lifecycle.RebalanceStatus? RebalanceProgress { get; init; }

    /// <summary>This node's Raft log (checksums, damage found at start).</summary>
    public RaftLogHealth RaftLog { get; init; } = RaftLogHealth.Unchecked;
}
