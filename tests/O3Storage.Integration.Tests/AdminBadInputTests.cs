using System.Net;
using System.Text.Json;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>Every kind of bad admin call gets a clear JSON error with a fitting status, and changes nothing.</summary>
public sealed class AdminBadInputTests(ITestOutputHelper output) : IDisposable
{
    private readonly KeyFile _keys = new();
    private readonly AdminCalls _admin = new(output);

    public void Dispose() => _keys.Dispose();

    private Task<(HttpStatusCode Status, JsonElement Body)> CallAsync(HttpMethod method, string url, string? body, string? key) => _admin.CallAsync(method, url, body, key);

    private Task RefusedAsync(HttpStatusCode expected, string error, HttpMethod method, string url, string? body, string? key) => _admin.RefusedAsync(expected, error, method, url, body, key);

    [Fact]
    public async Task BadAdminCalls_AreClearJsonErrors_AndChangeNothing()
    {
        using TestCluster cluster = await TestCluster.StartAsync(58, 4, output, "--api-keys", _keys.Path);
        string one = $"http://{cluster.NodeId(1)}";
        string three = $"http://{cluster.NodeId(3)}"; // a follower, most likely: calls pass through to the leader
        string admin = _keys.Admin;

        await RefusedAsync(HttpStatusCode.Forbidden, "admin key", HttpMethod.Post, $"{one}/admin/maintenance", "{\"enabled\": true}", null);
        await RefusedAsync(HttpStatusCode.Forbidden, "a read-write key may not make admin calls", HttpMethod.Post, $"{three}/admin/maintenance", "{\"enabled\": true}", _keys.ReadWrite);
        await RefusedAsync(HttpStatusCode.Forbidden, "not in this cluster's api-keys.txt", HttpMethod.Get, $"{three}/admin/rebalance-status", null, new string('z', 64));
        await RefusedAsync(HttpStatusCode.NotFound, "no admin call POST /admin/decommission", HttpMethod.Post, $"{three}/admin/decommission", "{}", admin);
        await RefusedAsync(HttpStatusCode.MethodNotAllowed, "takes POST", HttpMethod.Get, $"{three}/admin/remove-node", null, admin);
        await RefusedAsync(HttpStatusCode.BadRequest, "not valid JSON", HttpMethod.Post, $"{three}/admin/remove-node", "{\"node_id\": ", admin);
        await RefusedAsync(HttpStatusCode.BadRequest, "unknown field 'nodeId'", HttpMethod.Post, $"{three}/admin/remove-node", "{\"nodeId\": \"x\"}", admin);
        await RefusedAsync(HttpStatusCode.BadRequest, "'node_id' is required", HttpMethod.Post, $"{three}/admin/remove-node", "{}", admin);
        await RefusedAsync(HttpStatusCode.BadRequest, "'force' must be true or false", HttpMethod.Post, $"{three}/admin/remove-node", $"{{\"node_id\": \"{cluster.NodeId(4)}\", \"force\": \"yes\"}}", admin);
        await RefusedAsync(HttpStatusCode.NotFound, "127.58.0.9:8080 is not a member", HttpMethod.Post, $"{three}/admin/remove-node", "{\"node_id\": \"127.58.0.9:8080\"}", admin);
        await RefusedAsync(HttpStatusCode.BadRequest, "unknown strategy 'fastest'", HttpMethod.Post, $"{three}/admin/rebalance", "{\"strategy\": \"fastest\"}", admin);
        await RefusedAsync(HttpStatusCode.BadRequest, "'enabled' is required", HttpMethod.Post, $"{three}/admin/maintenance", "{\"reason\": \"x\"}", admin);

        // The calls behind o3ctl backup and restore: a snapshot or bucket that is not there, a page size out of range, an import without its checks.
        await RefusedAsync(HttpStatusCode.Forbidden, "admin key", HttpMethod.Get, $"{three}/admin/snapshots/nightly/objects?bucket=b", null, null);
        await RefusedAsync(HttpStatusCode.NotFound, "no snapshot named nightly", HttpMethod.Get, $"{three}/admin/snapshots/nightly", null, admin);
        await RefusedAsync(HttpStatusCode.BadRequest, "not a snapshot name", HttpMethod.Get, $"{three}/admin/snapshots/night%20ly/objects", null, admin);
        await RefusedAsync(HttpStatusCode.MethodNotAllowed, "takes GET", HttpMethod.Post, $"{three}/admin/snapshots/nightly/objects", "{}", admin);
        await RefusedAsync(HttpStatusCode.MethodNotAllowed, "takes DELETE, GET", HttpMethod.Put, $"{three}/admin/snapshots/nightly", "{}", admin);
        Assert.Equal("created", (await CallAsync(HttpMethod.Post, $"{one}/admin/snapshot", "{\"name\": \"nightly\"}", admin)).Body.GetProperty("status").GetString());
        await RefusedAsync(HttpStatusCode.BadRequest, "'bucket' is required", HttpMethod.Get, $"{three}/admin/snapshots/nightly/objects", null, admin);
        await RefusedAsync(HttpStatusCode.NotFound, "snapshot nightly has no bucket photos", HttpMethod.Get, $"{three}/admin/snapshots/nightly/object?bucket=photos&key=a", null, admin);
        await RefusedAsync(HttpStatusCode.BadRequest, "'bucket' is required", HttpMethod.Get, $"{three}/admin/snapshots/nightly/objects?limit=5000", null, admin);
        await RefusedAsync(HttpStatusCode.BadRequest, "may hold only lower-case letters", HttpMethod.Post, $"{three}/admin/import/bucket", "{\"name\": \"No_Such\"}", admin);
        await RefusedAsync(HttpStatusCode.BadRequest, "'created_at' is not a time", HttpMethod.Post, $"{three}/admin/import/bucket", "{\"name\": \"photos\", \"created_at\": \"yesterday\"}", admin);
        await RefusedAsync(HttpStatusCode.BadRequest, "x-o3-sha256 must be", HttpMethod.Put, $"{three}/admin/import/object?bucket=photos&key=a", "bytes", admin);
        Assert.Equal("deleted", (await CallAsync(HttpMethod.Delete, $"{one}/admin/snapshots/nightly", null, admin)).Body.GetProperty("status").GetString());

        // Nothing changed.
        JsonElement health = await cluster.HealthAsync(2);
        Assert.Equal(4, health.GetProperty("cluster").GetProperty("total_nodes").GetInt32());
        Assert.True(health.GetProperty("cluster").GetProperty("write_enabled").GetBoolean());
        Assert.Equal(0, health.GetProperty("cluster").GetProperty("removed_nodes").GetArrayLength());

        // Two removals at once: one drains, the other is refused; then removing below replication_factor is refused.
        Task<(HttpStatusCode, JsonElement)> first = CallAsync(HttpMethod.Post, $"{one}/admin/remove-node", $"{{\"node_id\": \"{cluster.NodeId(3)}\"}}", admin);
        Task<(HttpStatusCode, JsonElement)> second = CallAsync(HttpMethod.Post, $"{three}/admin/remove-node", $"{{\"node_id\": \"{cluster.NodeId(4)}\"}}", admin);
        (HttpStatusCode Status, JsonElement Body)[] both = await Task.WhenAll(first, second);
        Assert.Single(both, b => b.Status == HttpStatusCode.Accepted);
        (HttpStatusCode _, JsonElement refused) = Assert.Single(both, b => b.Status == HttpStatusCode.Conflict);
        Assert.Contains("another removal is in progress", refused.GetProperty("error").GetString());
        await cluster.WaitUntilAsync("the drained node is removed", async () => (await cluster.HealthAsync(1)).GetProperty("cluster").GetProperty("total_nodes").GetInt32() == 3);
        // The removal's own call may still be finishing on node 1 for a moment ("retry when the current one is done").
        await cluster.WaitUntilAsync("node 1 takes removals again", async () =>
        {
            (HttpStatusCode status, JsonElement body) = await CallAsync(HttpMethod.Post, $"{one}/admin/remove-node", $"{{\"node_id\": \"{cluster.NodeId(2)}\"}}", admin);
            return !(status == HttpStatusCode.Conflict && body.GetProperty("error").GetString() == "another removal is in progress");
        });
        await RefusedAsync(HttpStatusCode.Conflict, "fewer than replication_factor 3", HttpMethod.Post, $"{one}/admin/remove-node", $"{{\"node_id\": \"{cluster.NodeId(2)}\"}}", admin);
        Assert.Equal(3, (await cluster.HealthAsync(1)).GetProperty("cluster").GetProperty("total_nodes").GetInt32());

        // S3 paths still answer S3, and /admin never does.
        (HttpStatusCode status, JsonElement notS3) = await CallAsync(HttpMethod.Get, $"{one}/admin", null, admin);
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("admin calls:", notS3.GetProperty("detail").GetString());
    }
}
