using System.Net;
using System.Text.Json;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>Leader loss, quorum loss and graceful handover, with real processes killed for real.</summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Cluster_LeaderKilled_NewLeaderElectedAndRestartedNodeRejoinsAndCatchesUp()
    {
        using TestCluster cluster = await TestCluster.StartAsync(21, 3, output);
        string leader = await cluster.WaitForAgreedLeaderAsync([1, 2, 3]);
        int leaderNode = cluster.NodeNumberOf(leader);
        int[] survivors = [.. new[] { 1, 2, 3 }.Where(n => n != leaderNode)];

        cluster.Kill(leaderNode);

        string newLeader = await cluster.WaitForAgreedLeaderAsync(survivors, notThis: leader);
        Assert.NotEqual(leader, newLeader);

        // While the old leader is down the log moves on: a fourth node joins.
        cluster.Join(4, cluster.Peers(survivors));
        await cluster.WaitForActiveNodesAsync([.. survivors, 4], 3);
        long appliedWhileDown = (await cluster.HealthAsync(survivors[0])).GetProperty("cluster").GetProperty("applied_index").GetInt64();

        // Restarted with the same command line as before (the bootstrap node keeps --bootstrap).
        if (leaderNode == 1)
        {
            cluster.Bootstrap(1);
        }
        else
        {
            cluster.Join(leaderNode, cluster.Peers(1));
        }

        await cluster.WaitForActiveNodesAsync([1, 2, 3, 4], 4);
        await cluster.WaitUntilAsync($"restarted node {leaderNode} applied the entries it missed", async () =>
        {
            JsonElement health = await cluster.HealthAsync(leaderNode);
            return health.GetProperty("cluster").GetProperty("applied_index").GetInt64() >= appliedWhileDown
                && health.GetProperty("cluster").GetProperty("members").GetArrayLength() == 4;
        });
        // All four agree on a leader (usually still newLeader: a returning node's pre-vote does not
        // disrupt; but a stall on two busy cores may cause a legitimate election, so that is not asserted).
        string agreed = await cluster.WaitForAgreedLeaderAsync([1, 2, 3, 4]);
        output.WriteLine(agreed == newLeader ? $"leader still {newLeader}" : $"leader moved from {newLeader} to {agreed}");
    }

    [Fact]
    public async Task Cluster_FiveNodes_KeepsALeaderWithTwoKilled_LosesItWithThreeKilled()
    {
        using TestCluster cluster = await TestCluster.StartAsync(22, 5, output);
        string leader = await cluster.WaitForAgreedLeaderAsync([1, 2, 3, 4, 5]);
        int leaderNode = cluster.NodeNumberOf(leader);
        int[] followers = [.. Enumerable.Range(1, 5).Where(n => n != leaderNode)];

        // Two followers die: 3 of 5 remain, a quorum; the leader keeps serving.
        cluster.Kill(followers[0]);
        cluster.Kill(followers[1]);
        int[] remaining = [leaderNode, followers[2], followers[3]];
        await cluster.WaitForActiveNodesAsync(remaining, 3);
        string agreed = await cluster.WaitForAgreedLeaderAsync(remaining); // usually still the leader; an election on a stall is legitimate
        Assert.Contains(cluster.NodeNumberOf(agreed), remaining);

        // A third dies: 2 of 5, no quorum; /health turns 503 with has_quorum false on both survivors.
        cluster.Kill(followers[2]);
        int[] survivors = [leaderNode, followers[3]];
        await cluster.WaitUntilAsync("both survivors report 503, has_quorum false and 2 active nodes", async () =>
        {
            foreach (int node in survivors)
            {
                var health = await cluster.TryHealthAsync(node);
                if (health is not { Status: HttpStatusCode.ServiceUnavailable }
                    || health.Value.Body.GetProperty("cluster").GetProperty("active_nodes").GetInt32() != 2
                    || health.Value.Body.GetProperty("cluster").GetProperty("has_quorum").GetBoolean()
                    || health.Value.Body.GetProperty("cluster").GetProperty("write_enabled").GetBoolean())
                {
                    return false;
                }
            }

            return true;
        });
        JsonElement body = await cluster.HealthAsync(followers[3]);
        Assert.Equal("unavailable", body.GetProperty("status").GetString());
        Assert.Equal(2, body.GetProperty("cluster").GetProperty("active_nodes").GetInt32());
    }

    [Fact]
    public async Task Cluster_LeaderSigterm_HandsOverAndExitsCleanly()
    {
        using TestCluster cluster = await TestCluster.StartAsync(23, 3, output);
        string leader = await cluster.WaitForAgreedLeaderAsync([1, 2, 3]);
        int leaderNode = cluster.NodeNumberOf(leader);
        int[] survivors = [.. new[] { 1, 2, 3 }.Where(n => n != leaderNode)];
        NodeProcess leaderProcess = cluster.Process(leaderNode);

        leaderProcess.Terminate();

        Assert.Equal(0, await leaderProcess.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.Contains("stopping: SIGTERM", leaderProcess.Stdout);
        Assert.Contains("stopped after handing over", leaderProcess.Stdout);
        string newLeader = await cluster.WaitForAgreedLeaderAsync(survivors, notThis: leader);
        Assert.Contains(cluster.NodeNumberOf(newLeader), survivors);
    }
}
