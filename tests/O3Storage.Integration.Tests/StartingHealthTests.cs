using System.Net;
using System.Text.Json;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// A node that does not serve yet (waiting for its peers on the LAN, or for the members it was told to
/// join) answers on its API port with a 503 that says what it waits for, instead of refusing the
/// connection; once it serves, the same port answers as a member. Its --data is locked while it waits.
/// </summary>
public sealed class StartingHealthTests(ITestOutputHelper output)
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private static async Task<JsonElement?> StartingHealthAsync(TestCluster cluster, int node, string phase)
    {
        var health = await cluster.TryHealthAsync(node);
        return health is { Status: HttpStatusCode.ServiceUnavailable } h
            && h.Body.GetProperty("status").GetString() == "starting"
            && h.Body.GetProperty("startup").GetProperty("phase").GetString() == phase
            ? h.Body
            : null;
    }

    [Fact]
    public async Task AJoiningNode_SaysWhatItWaitsFor_ThenServesOnTheSamePort()
    {
        using var cluster = new TestCluster(57, output);
        cluster.Join(2, cluster.Peers(1), "--join-timeout", "60");

        JsonElement body = default;
        await cluster.WaitUntilAsync("node 2 answers /health with 503, status starting, phase joining", async () =>
        {
            body = await StartingHealthAsync(cluster, 2, "joining") ?? default;
            return body.ValueKind == JsonValueKind.Object;
        });
        Assert.Contains($"joining through {cluster.NodeId(1)}", body.GetProperty("startup").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, body.GetProperty("cluster").GetProperty("active_nodes").GetInt32());
        Assert.Equal("standby", body.GetProperty("cluster").GetProperty("role").GetString());
        Assert.False(body.GetProperty("cluster").GetProperty("write_enabled").GetBoolean());
        Assert.Equal("joining", body.GetProperty("hardware").GetProperty("led").GetString());
        Assert.Equal(cluster.NodeId(2), body.GetProperty("node_id").GetString());

        // S3 clients get an S3 error they retry, peers a JSON one, Prometheus a scrape that says why the node is not up.
        using (HttpResponseMessage list = await s_http.GetAsync($"http://{cluster.NodeId(2)}/"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, list.StatusCode);
            string xml = await list.Content.ReadAsStringAsync();
            Assert.Contains("<Code>ServiceUnavailable</Code>", xml, StringComparison.Ordinal);
            Assert.Contains("does not serve yet (joining: joining through", xml, StringComparison.Ordinal);
            Assert.Equal(TimeSpan.FromSeconds(5), list.Headers.RetryAfter?.Delta);
        }

        using (HttpResponseMessage ping = await s_http.GetAsync($"http://{cluster.NodeId(2)}/internal/ping"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ping.StatusCode);
            Assert.Contains("\"error\"", await ping.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (HttpResponseMessage metrics = await s_http.GetAsync($"http://{cluster.NodeId(2)}/metrics"))
        {
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
            string text = await metrics.Content.ReadAsStringAsync();
            Assert.Contains("\no3storage_up 0\n", text, StringComparison.Ordinal);
            Assert.Contains("o3storage_starting{phase=\"joining\"} 1", text, StringComparison.Ordinal);
        }

        // The peer comes up: node 2 joins and its port now answers as a member.
        cluster.Bootstrap(1);
        await cluster.WaitForActiveNodesAsync([1, 2], 2);
        JsonElement serving = await cluster.HealthAsync(2);
        Assert.Equal(JsonValueKind.Null, serving.GetProperty("startup").ValueKind);
        Assert.NotEqual(Guid.Empty, serving.GetProperty("node_uuid").GetGuid());
    }

    [Fact]
    public async Task ADiscoveringNode_WithoutAvahi_SaysSo_HoldsItsDataLock_AndLeavesNothingWhenStopped()
    {
        using var cluster = new TestCluster(58, output);
        string config = Path.Combine(cluster.Root, "o3storage.txt");
        await File.WriteAllTextAsync(config, "cluster_name=shop\njoin_token=shop-token-0123456789\nexpected_nodes=3\n");
        var noAvahi = new Dictionary<string, string> { ["DBUS_SYSTEM_BUS_ADDRESS"] = $"unix:path={Path.Combine(cluster.Root, "no-such-bus")}" };
        NodeProcess waiting = cluster.StartWithEnvironment(1, noAvahi, "--discover", "--boot-config", config);

        JsonElement body = default;
        await cluster.WaitUntilAsync("node 1 answers /health with 503, phase discovering, and the mDNS error", async () =>
        {
            body = await StartingHealthAsync(cluster, 1, "discovering") ?? default;
            return body.ValueKind == JsonValueKind.Object
                && body.GetProperty("startup").GetProperty("detail").GetString()!.StartsWith("mDNS: ", StringComparison.Ordinal);
        });
        Assert.Equal("discovering", body.GetProperty("hardware").GetProperty("led").GetString());
        Assert.Equal(Guid.Empty, body.GetProperty("node_uuid").GetGuid());
        double since = body.GetProperty("startup").GetProperty("since_seconds").GetDouble();
        Assert.InRange(since, 0, body.GetProperty("uptime_seconds").GetDouble());
        await cluster.WaitUntilAsync("since_seconds counts up while the node waits", async () =>
            (await StartingHealthAsync(cluster, 1, "discovering"))?.GetProperty("startup").GetProperty("since_seconds").GetDouble() > since);

        // Its --data is locked while it waits: a second process on it stops at once.
        using NodeProcess second = NodeProcess.Start(
            "second-on-node-1-data",
            ["--ip", cluster.Ip(2), "--data", cluster.DataDirectory(1), "--board", "none", "--discover", "--boot-config", config],
            noAvahi);
        Assert.Equal(1, await second.WaitForExitAsync(TestCluster.WaitTimeout));
        Assert.Contains("is in use by another o3storage process", second.Stderr, StringComparison.Ordinal);

        // Stopped while waiting: a normal stop, and the directory it made (nothing but its lock) is gone.
        waiting.Terminate();
        Assert.Equal(0, await waiting.WaitForExitAsync(TestCluster.WaitTimeout));
        Assert.False(Directory.Exists(cluster.DataDirectory(1)), "a board stopped before it voted leaves no --data behind");
    }
}
