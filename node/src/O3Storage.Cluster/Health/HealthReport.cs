
namespace O3Storage.Cluster.Health;

/// <summary>The body of <c>GET /health</c>. Field names are the guide's contract: add fields, never rename.</summary>
public sealed record HealthReport(
    string Status,
    string NodeId,
    Guid NodeUuid,
    string Version,
    double UptimeSeconds,
    ClusterHealth Cluster,
    StorageHealth Storage);

public sealed record ClusterHealth(
    string? ClusterId,
    string Role,
    string? Leader,
    long Term,
    int ActiveNodes,
    int TotalNodes,
    int QuorumSize,
    bool HasQuorum,
    bool WriteEnabled,
    int? ReplicationFactor,
    string? ConsistencyLevel,
    long AppliedIndex,
    IReadOnlyList<MemberHealth> Members);

public sealed record MemberHealth(
    string Id,
    string ClusterEndpoint,
    string Role,
    bool Reachable,
    DateTimeOffset? LastContact,
    long? LastContactMsAgo,
    bool Self);

/// <summary>Until the storage engine lands this node stores nothing: zeros, honestly.</summary>
public sealed record StorageHealth(long TotalObjects, long UsedSpaceBytes);
