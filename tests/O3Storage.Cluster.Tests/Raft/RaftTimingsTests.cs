using O3Storage.Cluster.Raft;

namespace O3Storage.Cluster.Tests.Raft;

public sealed class RaftTimingsTests
{
    private static RaftTimings For(int handshakeMs) => RaftTimings.For(TimeSpan.FromMilliseconds(handshakeMs));

    [Theory]
    [InlineData(0)]
    [InlineData(4)] // a Pi 4
    [InlineData(50)] // four of them still fit in 200 ms
    public void AFastHandshake_KeepsTheUsualTimeouts(int handshakeMs)
    {
        RaftTimings timings = For(handshakeMs);
        Assert.Same(RaftTimings.Default, timings);
        Assert.False(timings.IsScaled);
        Assert.Equal((200, 250, 500, 2000), Ms(timings));
        Assert.Equal(TimeSpan.FromMilliseconds(500), timings.PeerConnect(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public void ASlowHandshake_GetsFourHandshakesToConnect_AndElectionsOutlastAConnectToAPoweredOffMember()
    {
        // Measured under emulation (make test-fleet): 0.6-1.5 s on the board itself, 2.6-4.7 s across the LAN.
        RaftTimings timings = For(1200);
        Assert.True(timings.IsScaled);
        Assert.Equal((4800, 9600, 19200, 9600), Ms(timings));
        Assert.True(timings.LowerElection > timings.Connect, "a candidate waits for every vote request, so one to a dead member must give up first");
        Assert.Equal(TimeSpan.FromMilliseconds(4800), timings.PeerConnect(TimeSpan.FromMilliseconds(500)));

        // Just over the usual: rounded up to 100 ms steps; the election timeout never below the usual.
        Assert.Equal((300, 600, 1200, 2000), Ms(For(51)));
        Assert.Equal((300, 600, 1200, 2000), Ms(For(70)));
    }

    [Fact]
    public void AnAbsurdHandshake_IsCapped()
    {
        Assert.Equal((10_000, 20_000, 40_000, 20_000), Ms(For(60_000)));
        Assert.Throws<ArgumentOutOfRangeException>(() => RaftTimings.For(TimeSpan.FromMilliseconds(-1)));
    }

    [Fact]
    public void TheNodesDefaults_AreTheUsualTimings()
    {
        var options = new RaftNodeOptions("/tmp/none", new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 8090), ColdStart: false);
        Assert.Equal(RaftTimings.Default, new RaftTimings(options.ConnectTimeout, options.LowerElectionTimeout, options.UpperElectionTimeout, options.RequestTimeout));
    }

    private static (int, int, int, int) Ms(RaftTimings t) =>
        ((int)t.Connect.TotalMilliseconds, (int)t.LowerElection.TotalMilliseconds, (int)t.UpperElection.TotalMilliseconds, (int)t.Request.TotalMilliseconds);
}
