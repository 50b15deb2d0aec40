using O3Storage.Cluster.Lifecycle;

namespace O3Storage.Cluster.Tests.Lifecycle;

public sealed class RebalanceProgressTests
{
    private static PlacementSurvey Survey(long misplaced, long under = 0) => new(
        500, under, misplaced, misplaced * 1000,
        new Dictionary<string, NodeLoad> { ["a:1"] = new(400, 400_000), ["b:1"] = new(100, 100_000) },
        new Dictionary<string, NodeLoad> { ["a:1"] = new(250, 250_000), ["b:1"] = new(250, 250_000) });

    [Fact]
    public void APass_StartsWhenWorkAppears_CountsMoves_AndEndsWhenNothingIsLeft()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));
        var progress = new RebalanceProgress(time);
        Assert.Equal("idle", progress.Snapshot("a:1").State);

        progress.Observe(Survey(150));
        time.Advance(TimeSpan.FromSeconds(10));
        for (int i = 0; i < 50; i++)
        {
            progress.Moved(1000);
        }

        RebalanceStatus running = progress.Snapshot("a:1");
        Assert.Equal(("running", 150L, 50L, 33.3), (running.State, running.ObjectsTotal, running.ObjectsMoved, running.Percent));
        Assert.Equal(5000, running.RateBytesPerSecond);
        Assert.Equal(20, running.EtaSeconds); // 100 000 bytes left at 5 000 per second
        Assert.Equal([("a:1", 400L, 250L), ("b:1", 100L, 250L)], running.Nodes.Select(n => (n.NodeId, n.Objects, n.TargetObjects)));
        Assert.StartsWith("running: 50 of 150 objects moved (33.3 %)", RebalanceProgress.Summary(running));

        progress.Observe(Survey(0));
        RebalanceStatus done = progress.Snapshot("a:1");
        Assert.Equal(("done", 100.0), (done.State, done.Percent));
        Assert.NotNull(done.FinishedAt);
        Assert.Null(done.EtaSeconds);
    }

    [Fact]
    public void ARequest_StartsAFreshPass_AndRoundsThatOnlyFail_MarkItFailed()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));
        var progress = new RebalanceProgress(time);
        progress.Requested(RebalanceProgress.EvenDistribution);
        progress.Observe(Survey(10));
        for (int i = 0; i < RebalanceProgress.FailedRoundsMax; i++)
        {
            progress.Failed("b/k: no new holder stored it");
            progress.RoundFailed();
        }

        RebalanceStatus failed = progress.Snapshot(null);
        Assert.Equal(("failed", "admin", "b/k: no new holder stored it"), (failed.State, failed.Trigger, failed.LastError));
        progress.Moved(10);
        Assert.Equal("running", progress.Snapshot(null).State);
    }
}
