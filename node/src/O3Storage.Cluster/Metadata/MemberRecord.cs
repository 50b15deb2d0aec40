namespace O3Storage.Cluster.Metadata;

/// <summary>
/// What the cluster knows about one member. <see cref="NodeId"/> is <c>ip:apiPort</c>, the name users see;
/// <see cref="ClusterEndPoint"/> is where Raft reaches it; <see cref="Uuid"/> survives in the data directory.
/// </summary>
/// <param name="State">Active, or draining: its replicas move away and placement no longer chooses it; it is removed once it holds nothing.</param>
public sealed record MemberRecord(string NodeId, string ClusterEndPoint, Guid Uuid, long JoinedAtIndex, MemberState State = MemberState.Active);

/// <summary>A member's place in its life: serving, or on its way out (<c>POST /admin/remove-node</c> of a live node).</summary>
public enum MemberState : byte
{
    Active = 0,
    Draining = 1,
}

/// <summary>
/// A node the cluster removed (<c>POST /admin/remove-node</c>), remembered by id and identity so that the
/// node, when it comes back with the same data directory, can be told it was removed (it must be wiped
/// to join again, as a new node with a new uuid).
/// </summary>
public sealed record RemovedMember(string NodeId, Guid Uuid, long RemovedAtIndex, long RemovedUnixMs);

/// <summary>Cluster maintenance mode: writes are refused everywhere, reads go on.</summary>
public sealed record MaintenanceMode(string Reason, long SinceUnixMs);

/// <summary>
/// One API key as the cluster holds it (replicated to every member, which verifies S3 signatures with
/// the secret itself). <paramref name="Role"/>: 0 read-only, 1 read-write, 2 admin.
/// </summary>
public sealed record ClusterKey(byte Role, string Secret, string AccessKeyId)
{
    /// <summary>The source of the first admin key a closed cluster makes at bootstrap (not a node id: it outlives the node).</summary>
    public const string FirstAdminSource = "first-admin-key";

    public const byte RoleMax = 2;
}
