using O3Storage.Cluster.Health;
using O3Storage.Cluster.Membership;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;

namespace O3Storage.Cluster.Tests.Health;

public sealed class HealthEvaluatorTests
{
    private static readonly DateTimeOffset s_start = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualTimeProvider _time = new(s_start);
    private readonly PeerTable _peers;

    public HealthEvaluatorTests() => _peers = new PeerTable(_time, TimeSpan.FromSeconds(2));

    private static MetadataState Members(int count)
    {
        MetadataState state = MetadataState.Empty.Apply(new InitializeCluster(ClusterSettings.Default, Guid.NewGuid()), 1);
        for (int i = 1; i <= count; i++)
        {
            state = state.Apply(new AddMember($"10.0.0.{i}:8080", $"10.0.0.{i}:8090", Guid.NewGuid()), i + 1);
        }

        return state;
    }

    private static HealthInputs Inputs(int members, NodeRole role, string? leaderClusterEndPoint, int self = 1) => new(
        $"10.0.0.{self}:8080",
        Guid.NewGuid(),
        $"10.0.0.{self}:8090",
        "0.1.0+test",
        TimeSpan.FromSeconds(5),
        role,
        Term: 3,
        leaderClusterEndPoint,
        Enumerable.Range(1, members).Select(i => $"10.0.0.{i}:8090").ToList(),
        Members(members),
        StorageHealth.None);

    [Fact]
    public void ThreeMembersAllAnswering_Is200WithThreeActiveAndLeaderByNodeId()
    {
        _peers.RecordContact("10.0.0.2:8080", "follower", 3);
        _peers.RecordContact("10.0.0.3:8080", "follower", 3);

        (HealthReport report, int status) = HealthEvaluator.Evaluate(Inputs(3, NodeRole.Leader, "10.0.0.1:8090"), _peers, _time.GetUtcNow());

        Assert.Equal(200, status);
        Assert.Equal("ok", report.Status);
        Assert.Equal(3, report.Cluster.ActiveNodes);
        Assert.Equal(2, report.Cluster.QuorumSize);
        Assert.True(report.Cluster.HasQuorum);
        Assert.True(report.Cluster.WriteEnabled);
        Assert.Equal("10.0.0.1:8080", report.Cluster.Leader);
        Assert.Equal(["leader", "follower", "follower"], report.Cluster.Members.Select(m => m.Role));
        Assert.Same(StorageHealth.None, report.Storage);
        Assert.Same(AuthHealth.Off, report.Auth);
    }

    [Fact]
    public void PeerSilentLongerThanWindow_IsUnreachableAndClusterDegraded()
    {
        _peers.RecordContact("10.0.0.2:8080", "follower", 3);
        _peers.RecordContact("10.0.0.3:8080", "follower", 3);
        _time.Advance(TimeSpan.FromSeconds(1));
        _peers.RecordContact("10.0.0.2:8080", "follower", 3);
        _time.Advance(TimeSpan.FromSeconds(1.5));

        (HealthReport report, int status) = HealthEvaluator.Evaluate(Inputs(3, NodeRole.Follower, "10.0.0.2:8090"), _peers, _time.GetUtcNow());

        Assert.Equal(200, status);
        Assert.Equal("degraded", report.Status);
        Assert.Equal(2, report.Cluster.ActiveNodes);
        MemberHealth silent = report.Cluster.Members.Single(m => m.Id == "10.0.0.3:8080");
        Assert.False(silent.Reachable);
        Assert.Equal("unreachable", silent.Role);
        Assert.Equal(2500, silent.LastContactMsAgo);
    }

    [Fact]
    public void FiveMembersTwoAnswering_HasNoQuorumAnd503()
    {
        _peers.RecordContact("10.0.0.2:8080", "follower", 3);

        (HealthReport report, int status) = HealthEvaluator.Evaluate(Inputs(5, NodeRole.Follower, "10.0.0.2:8090"), _peers, _time.GetUtcNow());

        Assert.Equal(503, status);
        Assert.Equal(3, report.Cluster.QuorumSize);
        Assert.Equal(2, report.Cluster.ActiveNodes);
        Assert.False(report.Cluster.HasQuorum);
        Assert.False(report.Cluster.WriteEnabled);
        Assert.Equal("unavailable", report.Status);
    }

    [Fact]
    public void NoLeaderKnown_Is503EvenWithEveryoneReachable()
    {
        _peers.RecordContact("10.0.0.2:8080", "candidate", 4);
        _peers.RecordContact("10.0.0.3:8080", "candidate", 4);

        (HealthReport report, int status) = HealthEvaluator.Evaluate(Inputs(3, NodeRole.Candidate, null), _peers, _time.GetUtcNow());

        Assert.Equal(503, status);
        Assert.Null(report.Cluster.Leader);
        Assert.Equal("candidate", report.Cluster.Role);
    }

    [Fact]
    public void StandbyNodeNotYetMember_Is503WithNoMembers()
    {
        HealthInputs inputs = Inputs(3, NodeRole.Standby, "10.0.0.1:8090", self: 9) with { ConfigurationEndPoints = [] };

        (HealthReport report, int status) = HealthEvaluator.Evaluate(inputs, _peers, _time.GetUtcNow());

        Assert.Equal(503, status);
        Assert.Equal(0, report.Cluster.TotalNodes);
        Assert.False(report.Cluster.HasQuorum);
    }

    [Fact]
    public void AStartingNode_Is503_WithEveryFieldOfTheServingReport_AndWhatItWaitsFor()
    {
        var startup = new StartupHealth("discovering", "waiting for 3 boards of cluster 'shop': 1 visible", 4.2);
        var hardware = new HardwareHealth("qemu-virt", "discovering", "console", null, "no sensor", 1.0);

        (HealthReport report, int status) = HealthEvaluator.Starting("10.0.0.9:8080", Guid.Empty, "0.1.91", TimeSpan.FromSeconds(7.25), startup, AuthHealth.Off, hardware);

        Assert.Equal(503, status);
        Assert.Equal("starting", report.Status);
        Assert.Same(startup, report.Startup);
        Assert.Same(hardware, report.Hardware);
        Assert.Equal(7.25, report.UptimeSeconds);
        Assert.Equal("standby", report.Cluster.Role);
        Assert.Equal((0, 0, false, false), (report.Cluster.ActiveNodes, report.Cluster.TotalNodes, report.Cluster.HasQuorum, report.Cluster.WriteEnabled));
        Assert.Empty(report.Cluster.Members);
        Assert.Same(StorageHealth.None, report.Storage);
    }

    [Fact]
    public void AServingReport_HasNoStartup()
    {
        (HealthReport report, _) = HealthEvaluator.Evaluate(Inputs(1, NodeRole.Leader, "10.0.0.1:8090"), _peers, _time.GetUtcNow());

        Assert.Null(report.Startup);
    }

    [Fact]
    public void RaftMemberWithoutRecord_IsShownByClusterEndPoint()
    {
        HealthInputs inputs = Inputs(2, NodeRole.Leader, "10.0.0.1:8090") with
        {
            ConfigurationEndPoints = ["10.0.0.1:8090", "10.0.0.2:8090", "10.0.0.7:8090"],
        };

        (HealthReport report, _) = HealthEvaluator.Evaluate(inputs, _peers, _time.GetUtcNow());

        Assert.Contains(report.Cluster.Members, m => m.Id == "10.0.0.7:8090" && !m.Reachable);
        Assert.Equal(3, report.Cluster.TotalNodes);
    }
}
