namespace O3Storage.Cluster.Metadata;

/// <summary>Cluster-wide settings, committed once by the bootstrap node (from <c>cluster.json</c> or defaults).</summary>
public sealed record ClusterSettings(string ClusterId, int ReplicationFactor, ConsistencyLevel Consistency)
{
    public const string DefaultClusterId = "o3storage";
    public const int DefaultReplicationFactor = 3;
    public const int ReplicationFactorMax = 16;
    public const int ClusterIdLengthMax = 128;

    public static ClusterSettings Default { get; } = new(DefaultClusterId, DefaultReplicationFactor, ConsistencyLevel.Strong);
}
