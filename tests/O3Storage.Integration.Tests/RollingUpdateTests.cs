using System.Text.Json;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// The guide's rolling-update.sh, verbatim but for addresses and shorter sleeps, from this build (N) to
/// the "N+1" build (make publish-next-level-test: one metadata level more, and a test-only record kind
/// it tries to commit from its first moment), on three real nodes with 500 objects under a writer and
/// two readers. The cluster must hold the new kind back while any member runs N (a member of N would
/// stop, exit 70, on reading it), raise its level once the last node runs N+1, and then commit it;
/// no read may fail and no node may exit.
/// </summary>
public sealed class RollingUpdateTests(ITestOutputHelper output)
{
    /// <summary>The guide's "Step 1: Update Strategy".</summary>
    private const string GuideStrategy = """
        # Update nodes in reverse order (followers first, leader last)
        UPDATE_ORDER=(192.168.1.103 192.168.1.102 192.168.1.101)
        NEW_BINARY="o3storage-v2.0.0-arm64"
        """;

    private static async Task<JsonElement> ClusterAsync(TestCluster cluster, int node) =>
        (await cluster.HealthAsync(node)).GetProperty("cluster");

    [Fact]
    public async Task RollingUpdate_NToNPlusOne_UnderLoad_TheNewRecordKindWaitsForTheLastNode_NoReadFails_NoNodeExits()
    {
        int[] all = [1, 2, 3];
        using TestCluster cluster = new(75, output);
        var fleet = new FleetShell(cluster, output, 3);
        await cluster.FormAsync(3);
        var work = new Workload(cluster);
        await work.SeedAsync(all);
        await cluster.WaitUntilAsync("the cluster is at this build's metadata level, 5", async () => (await ClusterAsync(cluster, 1)).GetProperty("metadata_level").GetInt32() == 5);

        // The guide updates the leader last: make node 1 the leader, as in the guide's example.
        string leader = await cluster.WaitForAgreedLeaderAsync(all);
        Assert.Equal(cluster.NodeId(1), leader);

        // Readers and the writer use the nodes that serve: a node leaves the list when it is stopped and
        // comes back once its /health answers 200, as a client behind a health-checking balancer would see it.
        IReadOnlyList<int> up = all;
        int levelWhenTheLastNodeStopped = 0;
        fleet.Observe = async (node, verb) =>
        {
            if (verb == "stop")
            {
                up = [.. up.Where(n => n != node)];
                if (node == 1)
                {
                    JsonElement state = await ClusterAsync(cluster, 2);
                    levelWhenTheLastNodeStopped = state.GetProperty("metadata_level").GetInt32();
                    output.WriteLine($"before node 1's update: metadata_level {levelWhenTheLastNodeStopped}, members {string.Join(", ", state.GetProperty("members").EnumerateArray().Select(m => $"{m.GetProperty("id")} {m.GetProperty("version")} level {m.GetProperty("metadata_level")}"))}");
                }
            }
            else
            {
                _ = Task.Run(async () =>
                {
                    await cluster.WaitUntilAsync($"node {node} serves again", async () => await cluster.TryHealthAsync(node) is { Status: System.Net.HttpStatusCode.OK });
                    up = [.. up.Append(node).Order()];
                });
            }
        };

        using var load = new CancellationTokenSource();
        Task running = work.RunAsync(() => up, load.Token);
        string script = fleet.Localize(GuideStrategy).Replace("\"o3storage-v2.0.0-arm64\"", $"\"{NodeBinary.NextLevelPath}\"", StringComparison.Ordinal)
            + "\n" + fleet.Localize(File.ReadAllText(Path.Combine(NodeBinary.RepositoryRoot, "tests", "guide", "rolling-update.sh"))).Replace("sleep 60", "sleep 3", StringComparison.Ordinal);
        (int exit, string said) = await fleet.RunAsync(script);
        Assert.Equal(0, exit);
        Assert.Contains("Rolling update completed!", said);

        // Once the last node runs N+1, the level rises and the new kind is committed.
        await cluster.WaitUntilAsync("the cluster's metadata level is 6 on every node", async () =>
        {
            foreach (int node in all)
            {
                if ((await ClusterAsync(cluster, node)).GetProperty("metadata_level").GetInt32() != 6)
                {
                    return false;
                }
            }

            return true;
        });
        await cluster.WaitUntilAsync("an N+1 leader commits its test record", () =>
            Task.FromResult(all.Any(n => cluster.Process(n).Stdout.Contains("test record of metadata level 6 committed", StringComparison.Ordinal))));
        await Task.Delay(TimeSpan.FromSeconds(2)); // every node applies it
        await load.CancelAsync();
        await running;

        Assert.Equal(5, levelWhenTheLastNodeStopped);
        Assert.Contains("test record of metadata level 6 held back: the cluster is at level 5", cluster.Process(3).Stdout); // updated first: the gate held
        Assert.All(all, n => Assert.False(cluster.Process(n).HasExited, $"node {n} exited: {cluster.Process(n).Stdout}"));
        JsonElement members = (await ClusterAsync(cluster, 2)).GetProperty("members");
        Assert.All(members.EnumerateArray(), m => Assert.EndsWith(".next-level-test", m.GetProperty("version").GetString()));
        output.WriteLine($"load during the update: {work.Writes} writes, {work.RefusedWrites} refused (each retried as the next key), {work.Reads} reads, {work.ReadFailures.Count} failed reads");
        Assert.True(work.ReadFailures.Count == 0, $"reads failed during the update: {string.Join("; ", work.ReadFailures.Take(10))}");
        Assert.True(work.Reads > 0);
        await work.VerifyAsync(all);
    }
}
