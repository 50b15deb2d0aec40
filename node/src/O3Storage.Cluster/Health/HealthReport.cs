
namespace O3Storage.Cluster.Health;

/// <summary>The body of <c>GET /health</c>. Field names are the guide's contract: add fields, never rename.</summary>
public sealed record HealthReport(
    string Status,
    string NodeId,
    Guid NodeUuid,
    string Version,
    double UptimeSeconds,
    ClusterHealth Cluster,
    StorageHealth Storage,
    AuthHealth Auth,
    HardwareHealth? Hardware = null,
    StartupHealth? Startup = null)
{
    /// <summary>One line on moving objects to where placement wants them (the leader's pass, or this node's own survey).</summary>
    public string Rebalance { get; init; } = "idle";

    /// <summary>On the leader, its current or last rebalance pass in numbers (as GET /admin/rebalance-status); null on a follower.</summary>
    public Lifecycle.RebalanceStatus? RebalanceProgress { get; init; }
}

/// <summary>
/// What a node that does not serve yet is doing (status <c>starting</c>): <paramref name="Phase"/> is
/// <c>discovering</c> (waiting on the LAN for its peers), <c>joining</c> (reaching the members it was
/// given) or <c>starting</c> (opening its store and Raft); <paramref name="Detail"/> says what it waits
/// for, as the log and <c>systemctl status</c> do. Null once the node serves.
/// </summary>
public sealed record StartupHealth(string Phase, string Detail, double SinceSeconds);

/// <summary>
/// The board: its profile name ("no board" off a known board), the LED pattern the node shows (also
/// without an LED: the console stand-in), the temperature or why there is none, and how much of its
/// normal rate background work (compaction, repair) runs at (1.0 cool, down to 0.1 hot).
/// </summary>
/// <param name="LedError">Why the LED is not showing <paramref name="Led"/> (the last driver error), or null while it works.</param>
public sealed record HardwareHealth(string Board, string Led, string LedDriver, double? TemperatureCelsius, string TemperatureSource, double BackgroundWorkFactor, string? LedError = null);

/// <summary>Whether requests must authenticate; off when the node found no key file (it also logs that loudly).</summary>
public sealed record AuthHealth(bool Enabled, string? KeyFile, int Keys)
{
    public static AuthHealth Off { get; } = new(false, null, 0);

    /// <summary>How nodes talk to each other: mutual TLS with the cluster's certificates, or plain (off).</summary>
    public PeerTlsHealth PeerTls { get; init; } = PeerTlsHealth.Off;
}

/// <summary>
/// Mutual TLS between nodes: <paramref name="Mode"/> is <c>mutual</c> (Raft only takes peers with a
/// certificate of <paramref name="Authority"/>) or <c>off</c>; <paramref name="Certificate"/> is what this
/// node presents, and when it expires.
/// </summary>
public sealed record PeerTlsHealth(string Mode, string? Certificate, string? Authority, DateTimeOffset? Expires)
{
    public static PeerTlsHealth Off { get; } = new("off", null, null, null);
}

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
    IReadOnlyList<MemberHealth> Members)
{
    /// <summary>
    /// This cluster's identity: one per bootstrap. A cluster started anew from existing data (disaster
    /// recovery, a split) gets a new one while <see cref="ClusterId"/> (the name from cluster.json) stays.
    /// </summary>
    public Guid? ClusterUuid { get; init; }

    /// <summary>
    /// The metadata level the cluster writes: the lowest its members read, raised once every member
    /// answers with a higher one (each member's is in <see cref="Members"/>). What a rolling update waits for.
    /// </summary>
    public int MetadataLevel { get; init; } = 1;

    /// <summary>Cluster maintenance mode: writes refused everywhere while it is on.</summary>
    public MaintenanceHealth Maintenance { get; init; } = MaintenanceHealth.Off;

    /// <summary>This node's Raft log: checksums, and damage found at start (see <see cref="RaftLogHealth"/>).</summary>
    public RaftLogHealth RaftLog { get; init; } = RaftLogHealth.Unchecked;

    /// <summary>Nodes the cluster removed, newest first: a removed node cannot come back with its old data.</summary>
    public IReadOnlyList<RemovedHealth> RemovedNodes { get; init; } = [];
}

/// <summary>
/// This node's Raft log: whether its entries carry checksums, and <paramref name="State"/>: <c>ok</c>;
/// <c>recovering</c> (the log failed its checks at start, was moved to <paramref name="MovedTo"/>, and the
/// node is catching up from a leader, granting no vote meanwhile); <c>recovered</c> (caught up, votes again).
/// </summary>
public sealed record RaftLogHealth(bool Checksums, string State, string? Detail, DateTimeOffset? DamagedAt, string? MovedTo)
{
    public const string Ok = "ok";
    public const string Recovering = "recovering";
    public const string Recovered = "recovered";

    public static RaftLogHealth Unchecked { get; } = new(false, Ok, null, null, null);

    /// <summary>The applied index at which a damaged node had caught up.</summary>
    public long? RecoveredAtIndex { get; init; }
}

/// <summary>Maintenance mode as /health shows it.</summary>
public sealed record MaintenanceHealth(bool Enabled, string? Reason, DateTimeOffset? Since)
{
    public static MaintenanceHealth Off { get; } = new(false, null, null);
}

/// <summary>A node the cluster removed, and when.</summary>
public sealed record RemovedHealth(string Id, DateTimeOffset? RemovedAt);

public sealed record MemberHealth(
    string Id,
    string ClusterEndpoint,
    string Role,
    bool Reachable,
    DateTimeOffset? LastContact,
    long? LastContactMsAgo,
    bool Self)
{
    /// <summary><c>active</c>, <c>down</c> (not answering), or <c>draining</c> (on its way out: its replicas move away).</summary>
    public string State { get; init; } = "active";

    /// <summary>Since when a down member has not answered (as far as this node saw); null while it answers.</summary>
    public DateTimeOffset? DownSince { get; init; }

    /// <summary>The member's build, as it last said (null: never heard from); with the metadata level it reads.</summary>
    public string? Version { get; init; }

    public int? MetadataLevel { get; init; }
}

/// <summary>This node's blob store: what it holds and how much room is left.</summary>
public sealed record StorageHealth(long TotalObjects, long UsedSpaceBytes, long CapacityBytes, long FreeSpaceBytes, string? Device, bool DirectIo)
{
    /// <summary>Objects on fewer live holders than min(replication_factor, members), cluster-wide, from this node's last survey.</summary>
    public long UnderReplicatedObjects { get; init; }

    /// <summary>The background scrub: every blob this node should hold, read and verified at a paced rate.</summary>
    public ScrubHealth Scrub { get; init; } = ScrubHealth.Off;

    /// <summary>Named snapshots of the namespace, cluster-wide, and the space they keep from collection.</summary>
    public SnapshotsHealth Snapshots { get; init; } = SnapshotsHealth.None;

    public static StorageHealth None { get; } = new(0, 0, 0, 0, null, false);
}

/// <summary>
/// The scrub as /health shows it: <paramref name="State"/> is <c>off</c>, <c>scrubbing</c> (a pass is
/// under way, <paramref name="PassProgress"/> of its blobs done) or <c>idle</c> (waiting for the next
/// pass); the totals count since the node started; <paramref name="BadFound"/> blobs were missing, short
/// or failed their checksum and were handed to repair.
/// </summary>
public sealed record ScrubHealth(string State, long Passes, double PassProgress, long CheckedBlobs, long CheckedBytes, long BadFound, DateTimeOffset? LastPassCompletedAt, long RateBytesPerSecond)
{
    public static ScrubHealth Off { get; } = new("off", 0, 0, 0, 0, 0, null, 0);
}

/// <summary>
/// Snapshots as /health shows them: how many, and what they pin: <paramref name="PinnedBytes"/> in
/// <paramref name="PinnedBlobs"/> blobs the namespace no longer refers to (counted once, not per replica),
/// which deleting every snapshot would give back.
/// </summary>
public sealed record SnapshotsHealth(int Count, long PinnedBytes, long PinnedBlobs)
{
    public static SnapshotsHealth None { get; } = new(0, 0, 0);
}
