using System.Text.Json;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// A node whose card dropped the Raft log pages it had reported as written (here: its data pages zeroed
/// while it was down, the checkpoint still naming them), and at the same time the one node that shares its
/// acknowledged writes is down. Before checksums it came back at an old index without a word, and its
/// vote let the third node, which never saw those writes, lead: they were gone. Now it finds the damage,
/// says so on /health and in its log, grants no vote, and catches up once a leader with the writes exists.
/// </summary>
public sealed class DamagedLogTests(ITestOutputHelper output)
{
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

        // Node 1 (damaged) and node 3 (behind) are up; node 2, the other holder of the writes, is down.
        cluster.Start(1);
        cluster.Start(3);
        await cluster.WaitUntilAsync("node 1 reports its damaged log", async () =>
            await cluster.TryHealthAsync(1) is { } h && h.Body.GetProperty("cluster").GetProperty("raft_log").GetProperty("state").GetString() == "recovering");
        JsonElement log = (await cluster.TryHealthAsync(1))!.Value.Body.GetProperty("cluster").GetProperty("raft_log");
        Assert.True(log.GetProperty("checksums").GetBoolean());
        Assert.Contains("HashMismatch", log.GetProperty("detail").GetString(), StringComparison.Ordinal);
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
            await cluster.TryHealthAsync(1) is { } h && h.Body.GetProperty("cluster").GetProperty("raft_log").GetProperty("state").GetString() == "recovered");
        await work.VerifyAsync([1, 2, 3]);
        Assert.Contains("raft log rebuilt from the leader", cluster.Process(1).Stdout, StringComparison.Ordinal);
    }
}
