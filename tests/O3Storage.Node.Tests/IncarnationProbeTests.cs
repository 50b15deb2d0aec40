using Microsoft.Extensions.Time.Testing;
using O3Storage.Cluster;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Hosting;
using O3Storage.Node.Transport;

namespace O3Storage.Node.Tests;

/// <summary>
/// Whether a --bootstrap on existing state starts a new cluster (never while a member of its incarnation
/// answers), and whether a member started with --peers joins its peer's cluster anew.
/// </summary>
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

    private static readonly NodeAddress[] s_peer = [new(System.Net.IPAddress.Parse("10.0.0.1"), 8080)];

    /// <summary>Runs <paramref name="probe"/> on a fake clock, advancing it half a second at a time (at most 200 s of it).</summary>
    private static async Task<T> OnFakeClockAsync<T>(FakeTimeProvider time, Func<Task<T>> probe)
    {
        Task<T> running = probe();
        for (int i = 0; i < 400 && !running.IsCompleted; i++)
        {
            await Task.Yield();
            time.Advance(TimeSpan.FromMilliseconds(500));
        }

        return await running.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task APeerThatListensOnlyAfterSomeSeconds_IsWaitedFor_ThisNodeJoinsItsNewClusterAnew()
    {
        // The guide's split and Scenario 2 start the --bootstrap node and the --peers ones in a row: the
        // bootstrap node may take seconds to listen. Resuming the old membership meanwhile would make it
        // resume too (failed with a 5 s wait: a CI run's node took that long).
        var time = new FakeTimeProvider();
        long started = time.GetTimestamp();
        var newIncarnation = Guid.NewGuid();
        var probe = new IncarnationProbe((_, _) => time.GetElapsedTime(started) < TimeSpan.FromSeconds(8)
            ? Task.FromException<PingResponse>(new HttpRequestException("Connection refused"))
            : Task.FromResult(new PingResponse("10.0.0.1:8080", "leader", 1, "10.0.0.1:8080", "o3storage", Incarnation: newIncarnation, CallerIsMember: false)), time);
        var refused = new List<string>();
        (string Peer, string Detail)? elsewhere = await OnFakeClockAsync(time, () =>
            probe.BelongsElsewhereAsync(s_peer, "10.0.0.2:8080", TimeSpan.FromMinutes(2), (peer, _) => refused.Add(peer), CancellationToken.None));
        Assert.NotNull(elsewhere);
        Assert.Contains(newIncarnation.ToString(), elsewhere.Value.Detail, StringComparison.Ordinal);
        Assert.NotEmpty(refused);
    }

    [Fact]
    public async Task PeersThatNeverListen_ThisNodeResumesAsTheMemberItWas_AfterAsLongAsABootstrapWaits()
    {
        var time = new FakeTimeProvider();
        long started = time.GetTimestamp();
        var probe = new IncarnationProbe((_, _) => Task.FromException<PingResponse>(new HttpRequestException("Connection refused")), time);
        (string Peer, string Detail)? elsewhere = await OnFakeClockAsync(time, () =>
            probe.BelongsElsewhereAsync(s_peer, "10.0.0.2:8080", TimeSpan.FromMinutes(2), (_, _) => { }, CancellationToken.None));
        Assert.Null(elsewhere);
        Assert.InRange(time.GetElapsedTime(started), IncarnationProbe.RefoundProbe, IncarnationProbe.RefoundProbe + TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task APeerThatKnowsThisNode_Resumes_AtOnce()
    {
        var time = new FakeTimeProvider();
        var probe = new IncarnationProbe((_, _) => Task.FromResult(new PingResponse("10.0.0.1:8080", "leader", 4, "10.0.0.1:8080", "o3storage", Incarnation: s_ours, CallerIsMember: true)), time);
        Assert.Null(await probe.BelongsElsewhereAsync(s_peer, "10.0.0.2:8080", TimeSpan.FromMinutes(2), (_, _) => { }, CancellationToken.None));
    }
}
