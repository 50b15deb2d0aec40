using O3Storage.Cluster.Membership;

namespace O3Storage.Cluster.Tests.Health;

public sealed class PeerTableTests
{
    [Fact]
    public void Contact_AgesOutAfterWindow_AndRetainForgetsRemovedMembers()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var table = new PeerTable(time, TimeSpan.FromSeconds(2));
        table.RecordContact("a:1", "follower", 1);
        table.RecordContact("b:1", "leader", 1);

        time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.True(table.IsReachable("a:1"));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(table.IsReachable("a:1"));

        table.Retain(new HashSet<string> { "b:1" });
        Assert.Null(table.Find("a:1"));
        Assert.Equal("leader", table.Find("b:1")?.Role);
    }
}
