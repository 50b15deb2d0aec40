using O3Storage.Cluster.Membership;
using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Tests.Membership;

public sealed class PeerTableTests
{
    [Fact]
    public void DownLongerThan_AgreesWithLiveness_ForNeverSeenRecentlySeenAndAnsweringMembers()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));
        var peers = new PeerTable(time, TimeSpan.FromSeconds(2));
        TimeSpan grace = TimeSpan.FromMinutes(5);
        string[] members = ["self:1", "never:1", "gone:1", "up:1"];
        time.Advance(TimeSpan.FromMinutes(1));
        peers.RecordContact("gone:1", "follower", 1);
        time.Advance(TimeSpan.FromMinutes(4.5)); // never: down 5.5 min since the table began; gone: 4.5 min
        peers.RecordContact("up:1", "follower", 1);

        var live = peers.Liveness(members, "self:1", grace);
        Assert.Equal([false, true, false, false], members.Skip(0).Select(live.IsDead));
        Assert.Equal([true, false, false], members.Skip(1).Select(id => peers.IsDownLongerThan(id, grace)));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(peers.IsDownLongerThan("gone:1", grace));
        Assert.True(peers.Liveness(members, "self:1", grace).IsDead("gone:1"));
    }

    [Fact]
    public void LevelToCommit_IsTheLowestEveryMemberReads_OnlyWhenAllAnswer_AndAboveTheCommittedOne()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));
        var peers = new PeerTable(time, TimeSpan.FromSeconds(2));
        MetadataState state = MetadataState.Empty;
        foreach (string id in new[] { "a:1", "b:1", "c:1" })
        {
            state = state.Apply(new AddMember(id, id + "0", Guid.NewGuid()), state.LastAppliedIndex + 1);
        }

        Assert.Null(peers.LevelToCommit(state, "a:1", 3)); // b and c never answered
        peers.RecordContact("b:1", "follower", 1, "N+1", 3);
        peers.RecordContact("c:1", "follower", 1, "N", 2);
        Assert.Equal(2, peers.LevelToCommit(state, "a:1", 3)); // c still runs N
        state = state.Apply(new SetClusterLevel(2), state.LastAppliedIndex + 1);
        Assert.Null(peers.LevelToCommit(state, "a:1", 3));

        peers.RecordContact("c:1", "follower", 1, "N+1", 3);
        Assert.Equal(3, peers.LevelToCommit(state, "a:1", 3));
        time.Advance(TimeSpan.FromSeconds(3)); // c stopped answering: it may be changing builds again
        peers.RecordContact("b:1", "follower", 1, "N+1", 3);
        Assert.Null(peers.LevelToCommit(state, "a:1", 3));

        state = state.Apply(new SetClusterLevel(1), state.LastAppliedIndex + 1);
        Assert.Equal(2, state.ClusterLevel); // never lowered
    }

    [Fact]
    public void AMemberAddedLater_CountsAsDownOnlySinceItWasAdded_NotSinceTheTableBegan()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));
        var peers = new PeerTable(time, TimeSpan.FromSeconds(2));
        TimeSpan grace = TimeSpan.FromSeconds(3);
        peers.Retain(new HashSet<string> { "self:1", "old:1" });
        time.Advance(TimeSpan.FromMinutes(10));

        // Just joined: the leader has not probed it yet, and must not take it for a dead member (autopilot would remove it).
        string[] members = ["self:1", "old:1", "new:1"];
        Assert.False(peers.Liveness(members, "self:1", grace).IsDead("new:1"));
        Assert.True(peers.Liveness(members, "self:1", grace).IsDead("old:1"));
        peers.Retain(new HashSet<string>(members));
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.True(peers.IsDownLongerThan("new:1", grace)); // and when it never answers, the grace runs from its joining
    }
}
