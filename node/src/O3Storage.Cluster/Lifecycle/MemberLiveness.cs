// Owns: one instant's answer to "which members are up, which are down, and which are down for so long
// that their replicas no longer count" (the dead-node grace). Built from the probes' contact times; pure.
namespace O3Storage.Cluster.Lifecycle;

/// <param name="DownSince">Members that do not answer now, with the time they were last heard from (or since this node began to look).</param>
/// <param name="Grace">How long a member may be down before its replicas stop counting and are rebuilt elsewhere.</param>
public sealed record MemberLiveness(DateTimeOffset Now, TimeSpan Grace, IReadOnlyDictionary<string, DateTimeOffset> DownSince)
{
    /// <summary>Nobody down: for tests, and for a view that has not started probing.</summary>
    public static MemberLiveness AllUp(DateTimeOffset now, TimeSpan grace) => new(now, grace, new Dictionary<string, DateTimeOffset>());

    /// <summary>Answers probes now: may serve and receive copies.</summary>
    public bool IsUp(string nodeId) => !DownSince.ContainsKey(nodeId);

    /// <summary>Down for at least the grace: its replicas no longer count, placement skips it.</summary>
    public bool IsDead(string nodeId) => DownSince.TryGetValue(nodeId, out DateTimeOffset since) && Now - since >= Grace;

    /// <summary>When a down member was last heard from; null when it is up.</summary>
    public DateTimeOffset? Since(string nodeId) => DownSince.TryGetValue(nodeId, out DateTimeOffset since) ? since : null;
}
