using System.Diagnostics;
using O3Storage.Cluster.Health;
using O3Storage.Cluster.Lifecycle;
using O3Storage.Cluster.Membership;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;
using O3Storage.Cluster.Security;
using O3Storage.Firmware;
using O3Storage.Node.Api;
using O3Storage.Node.Auth;
using O3Storage.Node.CommandLine;
using O3Storage.Node.Diagnostics;
using O3Storage.Node.Transport;

namespace O3Storage.Node.Hosting;

/// <summary>The running node as the HTTP handlers and background loops see it.</summary>
internal sealed class NodeContext(NodeOptions options, NodeIdentity identity, RaftNode raft, NodeStorage storage, PeerTable peers, KeyRing keys, string version, Stopwatch uptime, HardwareMonitor hardware, NodeLifecycle lifecycle)
{
    /// <summary>Placement survey, rebalance progress, removals, and whether this node was removed.</summary>
    public NodeLifecycle Lifecycle => lifecycle;

    /// <summary>Every key this node honours: its api-keys.txt and the keys the cluster holds; null: authentication is off.</summary>
    public ApiKeys? Keys => keys.Current(raft.Metadata.ApiKeys);

    /// <summary>This node's api-keys.txt and the keys the cluster holds.</summary>
    public KeyRing KeyRing => keys;

    public NodeOptions Options => options;

    public NodeIdentity Identity => identity;

    public RaftNode Raft => raft;

    public PeerTable Peers => peers;

    public NodeStorage Storage => storage;

    /// <summary>The board: status LED, temperature, and the background work factor hot boards slow down to.</summary>
    public HardwareMonitor Hardware => hardware;

    public string NodeId => options.NodeId;

    /// <summary>The cluster's join token, derived: adverts, joins and enrolments are proved with it; null when this node knows none (the guide's certificates).</summary>
    public Provisioning.ClusterSecret? Secret { get; init; }

    /// <summary>Where this node keeps the cluster CA it made or was given (null: the operator's certificates, or none).</summary>
    public string? AuthorityDirectory { get; init; }

    /// <summary>Latency histograms and byte counters for /metrics.</summary>
    public NodeMetrics Metrics { get; init; } = new();

    /// <summary>The node's last log events (the dashboard's "recent events").</summary>
    public RecentEvents Events { get; init; } = new(TimeProvider.System);

    /// <summary>
    /// True while this node is starting a new cluster from its data and has not committed the new
    /// incarnation yet: its metadata still names the old members, so a ping is answered without saying
    /// who is a member (a node waiting on it asks again).
    /// </summary>
    public bool Refounding { get; set; }

    /// <summary>Refused joins and enrolments, logged at most once a minute per caller and kind (NodeEndpoints.LogRefusal).</summary>
    public Diagnostics.RepeatFilter Refusals { get; } = new(TimeProvider.System, TimeSpan.FromMinutes(1));

    public string Version => version;

    public TimeSpan Uptime => uptime.Elapsed;

    public JoinRequest JoinRequest => new(
        NodeId,
        options.Cluster.ToString(),
        identity.Uuid,
        options.BootConfig is not null ? Secret?.JoinProof(NodeId, options.Cluster.ToString(), identity.Uuid) : null,
        MetadataCodec.Level);

    /// <summary>The leader's API address (its node id), when a leader is known and has a member record.</summary>
    public string? LeaderNodeId() => raft.LeaderNodeId(NodeId);

    public HealthInputs CaptureHealthInputs()
    {
        MetadataState metadata = raft.Metadata;
        return new HealthInputs(
            NodeId,
            identity.Uuid,
            options.Cluster.ToString(),
            version,
            uptime.Elapsed,
            raft.Role,
            raft.Term,
            raft.LeaderEndPoint?.ToString(),
            raft.IsMember ? raft.ConfigurationMembers.Select(e => e.ToString()).ToList() : [],
            metadata,
            // Objects: the committed versions this node is a replica of (blobs are 4 MiB pieces, not objects); bytes: what its device holds.
            storage.Health() with { TotalObjects = metadata.ObjectsByReplica.GetValueOrDefault(NodeId), UnderReplicatedObjects = lifecycle.Survey?.UnderReplicated ?? 0 },
            DescribeAuth(options, Keys, raft.Trust),
            CaptureHardware())
        {
            Rebalance = DescribeRebalance(),
            RebalanceProgress = raft.IsLeader ? lifecycle.Rebalance.Snapshot(NodeId) : null,
            RaftLog = raft.LogHealth,
        };
    }

    /// <summary>The leader's pass, or (on a follower, which does not move anything) what its own survey sees.</summary>
    private string DescribeRebalance()
    {
        if (raft.IsLeader)
        {
            return RebalanceProgress.Summary(lifecycle.Rebalance.Snapshot(NodeId));
        }

        PlacementSurvey? survey = lifecycle.Survey;
        return survey is null ? "unknown: no placement survey yet"
            : survey.Misplaced > 0 ? $"pending: {survey.Misplaced} objects to move (the leader moves them)"
            : "idle: every object is where placement wants it";
    }

    public HardwareHealth CaptureHardware() => DescribeHardware(hardware);

    /// <summary>Authentication as /health shows it, serving or not: off without a key file.</summary>
    public static AuthHealth DescribeAuth(NodeOptions options, ApiKeys? keys, ClusterTrust? trust) =>
        (keys is null ? AuthHealth.Off : new AuthHealth(true, options.ApiKeysPath, keys.Keys.Count)) with
        {
            PeerTls = trust is null ? PeerTlsHealth.Off : new PeerTlsHealth("mutual", trust.Own.Subject, trust.Authority.Subject, new DateTimeOffset(trust.Own.NotAfter.ToUniversalTime(), TimeSpan.Zero)),
        };

    /// <summary>The board as /health shows it, serving or not.</summary>
    public static HardwareHealth DescribeHardware(HardwareMonitor hardware)
    {
        HardwareSnapshot board = hardware.Snapshot();
        return new HardwareHealth(board.Board, board.LedPattern, board.LedDriver, board.TemperatureCelsius is { } celsius ? Math.Round(celsius, 1) : null, board.TemperatureSource, Math.Round(board.BackgroundWorkFactor, 2), hardware.LedError);
    }
}
