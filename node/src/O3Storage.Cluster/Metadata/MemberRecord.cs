namespace O3Storage.Cluster.Metadata;

/// <summary>
/// What the cluster knows about one member. <see cref="NodeId"/> is <c>ip:apiPort</c>, the name users see;
/// <see cref="ClusterEndPoint"/> is where Raft reaches it; <see cref="Uuid"/> survives in the data directory.
/// </summary>
public sealed record MemberRecord(string NodeId, string ClusterEndPoint, Guid Uuid, long JoinedAtIndex);
