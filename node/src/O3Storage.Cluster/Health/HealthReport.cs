
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
    StartupHealth? Startup = null);

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
    IReadOnlyList<MemberHealth> Members);

public sealed record MemberHealth(
    string Id,
    string ClusterEndpoint,
    string Role,
    bool Reachable,
    DateTimeOffset? LastContact,
    long? LastContactMsAgo,
    bool Self);

/// <summary>This node's blob store: what it holds and how much room is left.</summary>
public sealed record StorageHealth(long TotalObjects, long UsedSpaceBytes, long CapacityBytes, long FreeSpaceBytes, string? Device, bool DirectIo)
{
    public static StorageHealth None { get; } = new(0, 0, 0, 0, null, false);
}
