using O3Storage.Cluster.Metadata;
using O3Storage.Node.Hosting;
using O3Storage.Node.Transport;

namespace O3Storage.Node.Tests;

/// <summary>Whether a --bootstrap on existing state starts a new cluster: never while a member of its incarnation answers.</summary>
public sealed class IncarnationProbeTests
{
    private static readonly Guid s_ours = Guid.NewGuid();

    private static MetadataState Members() => MetadataState.Empty
        .Apply(new InitializeCluster(ClusterSettings.Default, s_ours), 1)
        .Apply(new AddMember("10.0.0.1:8080", "10.0.0.1:8090", Guid.NewGuid()), 2)
        .Apply(new AddMember("10.0.0.2:8080", "10.0.0.2:8090", Guid.NewGuid()), 3);

    [Fact]
    public async Task AMemberOfTheSameIncarnationAnswering_Resumes()
    {
        var probe = new IncarnationProbe((_, _) => Task.FromResult(new PingResponse("10.0.0.2:8080", "follower", 7, null, "o3storage", Incarnation: s_ours)));
        Assert.False((await probe.ShouldRefoundAsync(Members(), "10.0.0.1:8080", CancellationToken.None)).Refound);
    }

    [Fact]
    public async Task ANodeThatSetItsStateAsideToJoinAnew_IsNotAMember_ItsNewIncarnationThenLetsTheBootstrapGoOn()
    {
        // The split's race: the other side's node answers first with no cluster state, then as the other cluster.
        int pings = 0;
        var probe = new IncarnationProbe((_, _) => Task.FromResult(Interlocked.Increment(ref pings) < 3
            ? new PingResponse("10.0.0.2:8080", "standby", 0, null, null)
            : new PingResponse("10.0.0.2:8080", "follower", 3, null, "o3storage", Incarnation: Guid.NewGuid())));
        RefoundVerdict verdict = await probe.ShouldRefoundAsync(Members(), "10.0.0.1:8080", CancellationToken.None);
        Assert.True(verdict.Refound, verdict.Detail);
        Assert.Contains("of incarnation", verdict.Detail, StringComparison.Ordinal);
    }
}
