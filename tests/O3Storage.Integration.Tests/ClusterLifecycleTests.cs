using System.Net;
using System.Text.Json;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// The guide's cluster procedures (scaling, removal, replacement, maintenance) run as the guide writes
/// them, with curl, jq and its scripts, on real nodes with at least 500 objects (single-PUT and
/// multipart) written before and a writer and readers running during: every acknowledged object must
/// read back whole through every node at the end, no read may fail meanwhile, and nothing may be left
/// under-replicated. The long procedures carry the trait Category=lifecycle-long (make test-lifecycle);
/// make test runs the rest.
/// </summary>
public sealed class ClusterLifecycleTests(ITestOutputHelper output)
{
    private const string LongSuite = "lifecycle-long";

    /// <summary>A short grace so "the node stays down" happens within a test.</summary>
    private static readonly string[] s_shortGrace = ["--dead-node-grace", "3s", "--rebalance-rate", "0"];

    private static readonly string[] s_longGrace = ["--dead-node-grace", "10m", "--rebalance-rate", "0"];

    private async Task<JsonElement> Jq(TestCluster cluster, int node, string path = "")
    {
        JsonElement health = await cluster.HealthAsync(node);
        foreach (string part in path.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            health = health.GetProperty(part);
        }

        return health;
    }

    /// <summary>Waits until node <paramref name="node"/> reports <paramref name="members"/> members, none down, and no under-replicated object.</summary>
    private async Task WaitForSettledAsync(TestCluster cluster, int node, int members, TimeSpan? timeout = null) =>
        await cluster.WaitUntilAsync($"{cluster.NodeId(node)} settles on {members} members and no under-replicated object", async () =>
        {
            if (await cluster.TryHealthAsync(node) is not { } health)
            {
                return false;
            }

            JsonElement body = health.Body;
            string rebalance = body.GetProperty("rebalance").GetString()!;
            return body.GetProperty("cluster").GetProperty("total_nodes").GetInt32() == members
                && body.GetProperty("cluster").GetProperty("active_nodes").GetInt32() == members
                && body.GetProperty("storage").GetProperty("under_replicated_objects").GetInt64() == 0
                && (rebalance.StartsWith("idle", StringComparison.Ordinal) || rebalance.StartsWith("done", StringComparison.Ordinal));
        }, timeout ?? TimeSpan.FromMinutes(3));

    private async Task FinishAsync(TestCluster cluster, Workload work, CancellationTokenSource load, Task running, int[] nodes)
    {
        await load.CancelAsync();
        await running;
        output.WriteLine($"load during the operation: {work.Writes} writes, {work.Reads} reads, {work.ReadFailures.Count} failed reads");
        Assert.True(work.ReadFailures.Count == 0, $"reads failed during the operation: {string.Join("; ", work.ReadFailures.Take(10))}");
        Assert.True(work.Reads > 0, "the readers read nothing");
        await work.VerifyAsync(nodes);
        foreach (int node in nodes)
        {
            // Each node surveys the placement every few seconds: its own count reaches 0 by the next survey.
            await WaitForSettledAsync(cluster, node, nodes.Length, TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    [Trait("Category", LongSuite)]
    public async Task ScaleUp_3To5_RebalancesEveryNodeToWithinTenPercentOfTheMean()
    {
        using TestCluster cluster = await TestCluster.StartAsync(51, 3, output, s_shortGrace);
        var work = new Workload(cluster);
        await work.SeedAsync([1, 2, 3]);
        int[] up = [1, 2, 3];
        using var load = new CancellationTokenSource();
        Task running = work.RunAsync(() => up, load.Token);

        // The guide's "Add nodes 4 and 5", then its monitor-rebalance.sh (two rounds).
        cluster.Join(4, GuideShell.Localize("192.168.1.101,192.168.1.102,192.168.1.103", cluster), s_shortGrace);
        cluster.Join(5, GuideShell.Localize("192.168.1.101,192.168.1.102,192.168.1.103,192.168.1.104", cluster), s_shortGrace);
        await cluster.WaitForActiveNodesAsync([1, 2, 3, 4, 5], 5);
        up = [1, 2, 3, 4, 5];
        (int exit, string monitored) = await GuideShell.RunAsync(GuideShell.Script("monitor-rebalance.sh", cluster, rounds: 2), output);
        Assert.Equal(0, exit);
        Assert.Contains($"Node {cluster.Ip(5)}: ", monitored);

        // The guide's "Trigger Manual Rebalancing" and its status line, until the pass is done.
        (_, string started) = await GuideShell.RunAsync(GuideShell.Localize("curl -X POST http://192.168.1.101:8080/admin/rebalance \\\n  -d '{\"strategy\": \"even_distribution\"}'", cluster), output);
        Assert.Contains("\"strategy\": \"even_distribution\"", started);
        await cluster.WaitUntilAsync("the rebalance pass is done", async () =>
        {
            (_, string status) = await GuideShell.RunAsync(GuideShell.Localize("curl -s http://192.168.1.101:8080/admin/rebalance-status | jq -r .state", cluster), output);
            return status.Trim() == "done";
        }, TimeSpan.FromMinutes(3));

        await FinishAsync(cluster, work, load, running, [1, 2, 3, 4, 5]);
        long[] counts = [.. await Task.WhenAll(Enumerable.Range(1, 5).Select(async n => (await Jq(cluster, n, "storage.total_objects")).GetInt64()))];
        double mean = counts.Average();
        output.WriteLine($"total_objects per node: {string.Join(", ", counts)} (mean {mean:0.#})");
        Assert.All(counts, c => Assert.InRange(c, mean * 0.9, mean * 1.1));
        (_, string metrics) = await GuideShell.RunAsync(GuideShell.Script("cluster-metrics.sh", cluster, rounds: 1), output);
        Assert.Contains("Cluster Size: 5 nodes", metrics);
    }

    [Fact]
    [Trait("Category", LongSuite)]
    public async Task GracefulScaleDown_5To3_ByStoppingNodes_RebuildsTheirCopiesAndShrinksTheVoters()
    {
        using TestCluster cluster = await TestCluster.StartAsync(52, 5, output, s_shortGrace);
        var work = new Workload(cluster);
        await work.SeedAsync([1, 2, 3, 4, 5]);
        int[] up = [1, 2, 3];
        using var load = new CancellationTokenSource();
        Task running = work.RunAsync(() => up, load.Token);

        // "Stop node 5 first", wait for the rebalancing, "then remove node 4".
        cluster.Process(5).Terminate();
        await GuideShell.RunAsync(GuideShell.Script("monitor-rebalance.sh", cluster, rounds: 1), output);
        await WaitForSettledAsync(cluster, 1, 4);
        cluster.Process(4).Terminate();
        await WaitForSettledAsync(cluster, 1, 3);

        (_, string final) = await GuideShell.RunAsync(GuideShell.Localize("curl -s http://192.168.1.101:8080/health | jq", cluster), output);
        Assert.Contains("\"total_nodes\": 3", final);
        await FinishAsync(cluster, work, load, running, [1, 2, 3]);
        Assert.Equal(2, (await Jq(cluster, 2, "cluster.quorum_size")).GetInt32());
    }

    [Fact]
    public async Task ForcedRemoval_OfAKilledNode_RebuildsItsCopiesFromTheSurvivors()
    {
        using TestCluster cluster = await TestCluster.StartAsync(53, 4, output, s_longGrace);
        var work = new Workload(cluster);
        await work.SeedAsync([1, 2, 3, 4]);
        int[] up = [1, 2, 3];
        using var load = new CancellationTokenSource();
        Task running = work.RunAsync(() => up, load.Token);

        cluster.Kill(4);
        await cluster.WaitUntilAsync("node 4 shows as down", async () =>
            (await Jq(cluster, 1, "cluster.members")).EnumerateArray().Any(m => m.GetProperty("id").GetString() == cluster.NodeId(4) && m.GetProperty("state").GetString() == "down"));
        (_, string answer) = await GuideShell.RunAsync(GuideShell.Localize("""
            curl -X POST http://192.168.1.101:8080/admin/remove-node \
              -H "Content-Type: application/json" \
              -d '{"node_id": "192.168.1.104:8080"}'
            """, cluster), output);
        Assert.Contains("\"state\": \"removed\"", answer);
        Assert.Contains("\"was_up\": false", answer);

        await WaitForSettledAsync(cluster, 1, 3);
        await FinishAsync(cluster, work, load, running, [1, 2, 3]);
        JsonElement removed = await Jq(cluster, 2, "cluster.removed_nodes");
        Assert.Equal(cluster.NodeId(4), removed[0].GetProperty("id").GetString());

        // The dead board comes back on its old data: it learns it was removed and serves nothing; a restart refuses.
        cluster.Start(4);
        await cluster.WaitUntilAsync("node 4 says it was removed", async () =>
            await cluster.TryHealthAsync(4) is { } health && health.Body.GetProperty("status").GetString() == "removed");
        cluster.Process(4).Terminate();
        await cluster.Process(4).WaitForExitAsync(TimeSpan.FromSeconds(30));
        (int exit, _, string stderr) = await NodeProcess.RunToExitAsync(["--ip", cluster.Ip(4), "--port", "8080", "--data", cluster.DataDirectory(4), "--board", "none"], TimeSpan.FromSeconds(30));
        Assert.Equal(1, exit);
        Assert.Contains("was removed from cluster", stderr);
        Assert.Contains($"wipe --data {cluster.DataDirectory(4)}", stderr);
        Assert.Equal(3, (await Jq(cluster, 1, "cluster.total_nodes")).GetInt32());
    }

    [Fact]
    [Trait("Category", LongSuite)]
    public async Task ReplaceFailedNode_TheReplacementReceivesTheDeadNodesCopies()
    {
        using TestCluster cluster = await TestCluster.StartAsync(54, 3, output, s_shortGrace);
        var work = new Workload(cluster);
        await work.SeedAsync([1, 2, 3]);
        int[] up = [1, 2];
        using var load = new CancellationTokenSource();
        Task running = work.RunAsync(() => up, load.Token);

        cluster.Kill(3);
        (_, string identified) = await GuideShell.RunAsync(GuideShell.Localize("""
            for node in 192.168.1.101 192.168.1.102 192.168.1.103; do
                echo -n "Node $node: "
                curl -f -s http://$node:8080/health >/dev/null && echo "OK" || echo "FAILED"
            done
            """, cluster), output);
        Assert.Contains($"Node {cluster.Ip(3)}: FAILED", identified);

        // "Deploy new node with same configuration" on 192.168.1.105.
        cluster.Join(5, GuideShell.Localize("192.168.1.101,192.168.1.102", cluster), s_shortGrace);
        await cluster.WaitForActiveNodesAsync([5], 3);
        up = [1, 2, 5];
        await WaitForSettledAsync(cluster, 1, 3);
        await FinishAsync(cluster, work, load, running, [1, 2, 5]);
        Assert.True((await Jq(cluster, 5, "storage.total_objects")).GetInt64() >= work.Acknowledged.Count); // three copies on three nodes: all of them
    }

    [Fact]
    [Trait("Category", LongSuite)]
    public async Task RemovingTheLeader_HandsLeadershipOver_DrainsIt_AndRemovesIt()
    {
        using TestCluster cluster = await TestCluster.StartAsync(55, 4, output, s_longGrace);
        var work = new Workload(cluster);
        await work.SeedAsync([1, 2, 3, 4]);
        string leaderId = await cluster.WaitForAgreedLeaderAsync([1, 2, 3, 4]);
        int leader = cluster.NodeNumberOf(leaderId);
        int[] others = [.. Enumerable.Range(1, 4).Where(n => n != leader)];
        int[] up = others;
        using var load = new CancellationTokenSource();
        Task running = work.RunAsync(() => up, load.Token);

        (_, string answer) = await GuideShell.RunAsync($"curl -s -X POST http://{leaderId}/admin/remove-node -H 'Content-Type: application/json' -d '{{\"node_id\": \"{leaderId}\"}}'", output);
        Assert.Contains("\"state\": \"draining\"", answer);
        Assert.NotEqual(leaderId, await cluster.WaitForAgreedLeaderAsync(others, notThis: leaderId));
        await WaitForSettledAsync(cluster, others[0], 3);
        await cluster.WaitUntilAsync("the old leader says it was removed", async () =>
            await cluster.TryHealthAsync(leader) is { } health && health.Body.GetProperty("status").GetString() == "removed");
        await FinishAsync(cluster, work, load, running, others);
    }

    [Fact]
    [Trait("Category", LongSuite)]
    public async Task RemovingALiveNode_DrainsItFirst_ThenRemovesIt()
    {
        using TestCluster cluster = await TestCluster.StartAsync(56, 4, output, s_longGrace);
        var work = new Workload(cluster);
        await work.SeedAsync([1, 2, 3, 4]);
        int[] up = [1, 2, 3, 4];
        using var load = new CancellationTokenSource();
        Task running = work.RunAsync(() => up, load.Token);

        (_, string answer) = await GuideShell.RunAsync(GuideShell.Localize("""
            curl -X POST http://192.168.1.101:8080/admin/remove-node \
              -H "Content-Type: application/json" \
              -d '{"node_id": "192.168.1.104:8080"}'
            """, cluster), output);
        Assert.Contains("\"state\": \"draining\"", answer);
        await cluster.WaitUntilAsync("node 4 is drained and removed", async () =>
            await cluster.TryHealthAsync(4) is { } health && health.Body.GetProperty("status").GetString() == "removed");
        up = [1, 2, 3];
        await WaitForSettledAsync(cluster, 1, 3);
        await FinishAsync(cluster, work, load, running, [1, 2, 3]);
    }

    [Fact]
    public async Task MaintenanceMode_StopsWritesEverywhere_KeepsReads_SurvivesRestartsAndLeaderChanges()
    {
        using TestCluster cluster = await TestCluster.StartAsync(57, 3, output, s_longGrace);
        var work = new Workload(cluster);
        await work.SeedAsync([1, 2, 3]);
        int[] up = [1, 2, 3];
        using var load = new CancellationTokenSource();
        Task running = work.RunAsync(() => up, load.Token);

        (_, string enabled) = await GuideShell.RunAsync(GuideShell.Localize("""
            curl -X POST http://192.168.1.101:8080/admin/maintenance \
              -d '{"enabled": true, "reason": "scheduled maintenance"}'
            """, cluster), output);
        Assert.Contains("\"write_enabled\": false", enabled);
        foreach (int node in up)
        {
            await cluster.WaitUntilAsync($"{cluster.NodeId(node)} refuses writes", async () => !(await Jq(cluster, node, "cluster.write_enabled")).GetBoolean());
            Assert.Equal("scheduled maintenance", (await Jq(cluster, node, "cluster.maintenance.reason")).GetString());
        }

        (_, string verified) = await GuideShell.RunAsync(GuideShell.Localize("curl -s http://192.168.1.101:8080/health | jq '.cluster.write_enabled'", cluster), output);
        Assert.Equal("false", verified.Trim());
        (_, string refused) = await GuideShell.RunAsync($"curl -s -i -X PUT --data-binary 'x' http://{cluster.NodeId(2)}/{work.Bucket}/during-maintenance", output);
        Assert.Contains("503", refused.Split('\n')[0]);
        Assert.Contains("Retry-After:", refused, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("scheduled maintenance", refused);

        // The guide's maintenance tasks restart nodes: the mode survives a restart and a leader change.
        string leaderId = await cluster.WaitForAgreedLeaderAsync([1, 2, 3]);
        int leader = cluster.NodeNumberOf(leaderId);
        up = [.. up.Where(n => n != leader)];
        cluster.Process(leader).Terminate();
        await cluster.Process(leader).WaitForExitAsync(TimeSpan.FromSeconds(30));
        await cluster.WaitForAgreedLeaderAsync(up, notThis: leaderId);
        cluster.Start(leader, s_longGrace);
        await cluster.WaitForActiveNodesAsync([1, 2, 3], 3);
        up = [1, 2, 3];
        Assert.False((await Jq(cluster, leader, "cluster.write_enabled")).GetBoolean());
        // The LED loop's first tick comes a moment after /health answers.
        await cluster.WaitUntilAsync("the restarted node's LED shows maintenance", async () => (await Jq(cluster, leader, "hardware.led")).GetString() == "maintenance");

        (_, string disabled) = await GuideShell.RunAsync(GuideShell.Localize("""
            curl -X POST http://192.168.1.101:8080/admin/maintenance \
              -d '{"enabled": false}'
            """, cluster), output);
        Assert.Contains("\"write_enabled\": true", disabled);
        await cluster.WaitUntilAsync("writes work again", async () => (await Jq(cluster, 3, "cluster.write_enabled")).GetBoolean());
        (_, string accepted) = await GuideShell.RunAsync($"curl -s -o /dev/null -w '%{{http_code}}' -X PUT --data-binary 'x' http://{cluster.NodeId(3)}/{work.Bucket}/after-maintenance", output);
        Assert.Equal("200", accepted.Trim());
        await FinishAsync(cluster, work, load, running, [1, 2, 3]);
        (_, string monitored) = await GuideShell.RunAsync(GuideShell.Script("health-monitor.sh", cluster, rounds: 1), output);
        Assert.DoesNotContain("unhealthy", monitored);
    }
}
