using System.Text.Json;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// A node whose card dropped Raft log pages it had reported as written, while the one other node holding
/// those acknowledged writes is down. Before checksums it came back at an old index without a word, and
/// its vote let the third node, which never saw those writes, lead: they were gone. Now it finds the damage,
/// says so on /health and in its log, grants no vote, and catches up once a leader with the writes exists.
/// </summary>
public sealed class DamagedLogTests(ITestOutputHelper output)
{
    /// <summary>The pages zeroed by hand while the node was down, the checkpoint still naming them.</summary>
    [Fact]
    public async Task ANodeWithALostLog_DoesNotVote_UntilItHasCaughtUp_AndNoAcknowledgedWriteIsLost()
    {
        using TestCluster cluster = await TestCluster.StartAsync(62, 3, output);
        var work = new Workload(cluster, "damaged-log");

        // Node 3 misses every write: only nodes 1 and 2 hold them.
        cluster.Kill(3);
        await cluster.WaitForAgreedLeaderAsync([1, 2]);
        await work.SeedAsync([1, 2], count: 60);

        cluster.KillAtOnce([1, 2]);
        string pages = Path.Combine(cluster.DataDirectory(1), "raft", "wal", "data");
        foreach (string page in Directory.GetFiles(pages))
        {
            await File.WriteAllBytesAsync(page, new byte[new FileInfo(page).Length]);
        }

        await DamagedNodeWaitsForTheHolderAsync(cluster, "HashMismatch");
        await work.VerifyAsync([1, 2, 3]);
    }

    /// <summary>
    /// The acceptance case through the power-cut file system: every node's data directory is a
    /// powercut-fs, and node 1's card starts lying (fsync keeps sizes and names but not the bytes, while
    /// write-through writes such as the log's checkpoint stay durable) while nodes 1 and 2 take writes and
    /// node 3 is down. After a whole-cluster cut node 1's log names entries its pages no longer hold.
    /// With checksums off, node 1's vote elects node 3 and all 60 writes read 404 (tried: 120 wrong reads).
    /// </summary>
    [Fact]
    [Trait("Category", WholeClusterKillTests.Suite)]
    public async Task ACardThatLiesAboutFlushes_IsFoundOut_AndLosesNoAcknowledgedWrite_WithAnotherNodeDown()
    {
        int[] all = [1, 2, 3];
        using var disks = new PowerCutDisks(output);
        using var cluster = new TestCluster(66, output);
        foreach (int node in all)
        {
            disks.Mount(node, cluster.DataDirectory(node));
        }

        await cluster.FormAsync(3);
        var before = new Workload(cluster, "before-the-lie");
        await before.SeedAsync(all, count: 20);

        // Node 3 misses what follows: nodes 1 and 2 hold it, and node 1's card keeps none of it.
        cluster.Kill(3);
        await cluster.WaitForAgreedLeaderAsync([1, 2]);
        disks.StartLying(1);
        var work = new Workload(cluster, "lying-card");
        await work.SeedAsync([1, 2], count: 60);
        Assert.True(disks.HasLied(1), "node 1's file system never ignored a flush: the test proves nothing");

        cluster.KillAtOnce([1, 2]);
        disks.CutAll();

        await DamagedNodeWaitsForTheHolderAsync(cluster, "HashMismatch|MissingPage");
        await before.VerifyAsync(all);
        await work.VerifyAsync(all);
        await work.AssertNodesAgreeAsync(all);
    }

    /// <summary>
    /// Nodes 1 (damaged) and 3 (behind) start while node 2, the other holder of the writes, stays down:
    /// node 1 must report the damage and neither may lead. Then node 2 starts and node 1 catches up.
    /// </summary>
    private async Task DamagedNodeWaitsForTheHolderAsync(TestCluster cluster, string detailPattern)
    {
        cluster.Start(1);
        cluster.Start(3);
        await cluster.WaitUntilAsync("node 1 reports its damaged log", async () =>
            await cluster.TryHealthAsync(1) is { } h && RaftLog(h.Body).GetProperty("state").GetString() == "recovering");
        JsonElement log = RaftLog((await cluster.TryHealthAsync(1))!.Value.Body);
        output.WriteLine($"node 1 raft_log: {log}");
        Assert.True(log.GetProperty("checksums").GetBoolean());
        Assert.Matches(detailPattern, log.GetProperty("detail").GetString());
        await cluster.WaitUntilAsync("node 1 logs the damage", () => Task.FromResult(cluster.Process(1).Stdout.Contains("RAFT LOG DAMAGED", StringComparison.Ordinal)));

        // Long enough for several elections: node 3 must not win one with node 1's vote.
        await Task.Delay(TimeSpan.FromSeconds(6));
        foreach (int node in new[] { 1, 3 })
        {
            string? role = (await cluster.TryHealthAsync(node))?.Body.GetProperty("cluster").GetProperty("role").GetString();
            Assert.NotEqual("leader", role);
        }

        cluster.Start(2);
        await cluster.WaitForAgreedLeaderAsync([1, 2, 3]);
        await cluster.WaitUntilAsync("node 1 caught up and votes again", async () =>
            await cluster.TryHealthAsync(1) is { } h && RaftLog(h.Body).GetProperty("state").GetString() == "recovered");
        Assert.Contains("raft log rebuilt from the leader", cluster.Process(1).Stdout, StringComparison.Ordinal);
    }

    private static JsonElement RaftLog(JsonElement health) => health.GetProperty("cluster").GetProperty("raft_log");
}
