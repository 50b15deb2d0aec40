using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// The guide's "Point-in-Time Recovery" as written: snapshot-cluster.sh on every node, changes, then its
/// restore loop on every node, on a real cluster of three with 500 objects (single-PUT and multipart),
/// every object checked by SHA-256 through every node; and every bad snapshot call a clear JSON error that
/// changes nothing.
/// </summary>
public sealed class SnapshotTests(ITestOutputHelper output)
{
    private static readonly HttpClient s_http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };
    private readonly AdminCalls _admin = new(output);

    /// <summary>The guide's "Restore from Snapshot", verbatim (it uses the NODES of snapshot-cluster.sh).</summary>
    private const string GuideRestore = """
        SNAPSHOT_NAME="snapshot-20241201_143000"

        for node in "${NODES[@]}"; do
            curl -X POST http://$node:8080/admin/restore \
              -d "{\"snapshot\": \"$SNAPSHOT_NAME\"}"
        done
        """;

    /// <summary>Collection is quick here (3 s): a blob a snapshot did not protect would be gone within the test.</summary>
    private static readonly string[] s_quickCollection = ["--orphan-grace", "3s"];

    private async Task<string> RestoreAsync(TestCluster cluster, string name)
    {
        string script = GuideShell.Localize("NODES=(192.168.1.101 192.168.1.102 192.168.1.103)\n" + GuideRestore, cluster)
            .Replace("snapshot-20241201_143000", name, StringComparison.Ordinal);
        (int exit, string answers) = await GuideShell.RunAsync(script, output);
        Assert.Equal(0, exit);
        return answers;
    }

    private static int Count(string text, string what) => Regex.Matches(text, Regex.Escape(what)).Count;

    private static async Task<long> UsedBytesAsync(TestCluster cluster, int node) =>
        (await cluster.HealthAsync(node)).GetProperty("storage").GetProperty("used_space_bytes").GetInt64();

    [Fact]
    public async Task GuideSnapshotThenRestore_WrittenSinceGone_DeletedSinceBack_SecondRestoreChangesNothing_CollectionKeepsWhatTheSnapshotHolds()
    {
        using TestCluster cluster = await TestCluster.StartAsync(68, 3, output, s_quickCollection);
        int[] all = [1, 2, 3];
        var work = new Workload(cluster);
        await work.SeedAsync(all);

        // The guide's snapshot-cluster.sh: the first node's call creates it, the others find it.
        (int exit, string made) = await GuideShell.RunAsync(GuideShell.Script("snapshot-cluster.sh", cluster, rounds: 1), output);
        Assert.Equal(0, exit);
        string name = Regex.Match(made, @"Snapshot created: (\S+)").Groups[1].Value;
        Assert.Equal((1, 2), (Count(made, "\"status\": \"created\""), Count(made, "\"status\": \"exists\"")));
        Assert.Contains("\"objects\": 500", made);
        var atSnapshot = work.Acknowledged.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

        // After it: 100 deleted (five of them multipart), 100 overwritten, 100 new.
        for (int i = 0; i < 100; i++)
        {
            await work.DeleteAsync(all[i % 3], $"seed/{(i < 50 ? i : 100 + i):D4}");
            Assert.True(await work.WriteAsync(all[i % 3], $"seed/{200 + i:D4}", 3000 + i, 7_000 + i));
            Assert.True(await work.WriteAsync(all[i % 3], $"after/{i:D3}", 2000 + i, 9_000 + i));
        }

        // Collection runs every second here and would take released blobs after 3 s: the snapshot pins them.
        await Task.Delay(TimeSpan.FromSeconds(10));
        JsonElement snapshots = (await cluster.HealthAsync(2)).GetProperty("storage").GetProperty("snapshots");
        output.WriteLine($"before the restore: {snapshots}");
        Assert.Equal(1, snapshots.GetProperty("count").GetInt32());
        Assert.True(snapshots.GetProperty("pinned_bytes").GetInt64() > 5 << 20, "the deleted multipart objects alone pin more than 5 MiB");
        string metrics = await s_http.GetStringAsync($"http://{cluster.NodeId(3)}/metrics");
        Assert.Matches(@"\no3storage_snapshot_pinned_bytes [1-9]\d+\n", metrics);
        long[] usedBefore = await Task.WhenAll(all.Select(n => UsedBytesAsync(cluster, n)));

        // The guide's restore loop: the first call restores, the others find it done.
        string restored = await RestoreAsync(cluster, name);
        Assert.Equal((1, 2), (Count(restored, "\"status\": \"restored\""), Count(restored, "\"status\": \"already_restored\"")));
        work.ExpectExactly(atSnapshot);
        await Task.Delay(TimeSpan.FromSeconds(10)); // collection takes what was written after the snapshot, and must take nothing else
        await work.VerifyAsync(all);
        await work.VerifyAbsentAsync(Enumerable.Range(0, 100).Select(i => $"after/{i:D3}"), all);
        Assert.Equal(atSnapshot.Keys.Order(StringComparer.Ordinal), await work.ListAsync(1));
        await work.AssertNodesAgreeAsync(all);
        long[] usedAfter = await Task.WhenAll(all.Select(n => UsedBytesAsync(cluster, n)));
        output.WriteLine($"used bytes per node before the restore {string.Join(", ", usedBefore)}, after {string.Join(", ", usedAfter)}");
        Assert.All(all, n => Assert.True(usedAfter[n - 1] < usedBefore[n - 1], $"node {n}: the blobs written after the snapshot were collected"));

        // A second run of the loop changes nothing.
        long applied = (await cluster.HealthAsync(1)).GetProperty("cluster").GetProperty("applied_index").GetInt64();
        string again = await RestoreAsync(cluster, name);
        Assert.Equal(3, Count(again, "\"status\": \"already_restored\""));
        Assert.Equal(atSnapshot.Keys.Order(StringComparer.Ordinal), await work.ListAsync(2));
        Assert.Equal(applied, (await cluster.HealthAsync(1)).GetProperty("cluster").GetProperty("applied_index").GetInt64());

        // Listed, then deleted: nothing pinned any more, and the objects stay.
        JsonElement list = JsonDocument.Parse(await s_http.GetStringAsync($"http://{cluster.NodeId(3)}/admin/snapshots")).RootElement;
        Assert.Equal(name, list.GetProperty("snapshots")[0].GetProperty("name").GetString());
        Assert.Equal(500, list.GetProperty("snapshots")[0].GetProperty("objects").GetInt64());
        Assert.Equal(name, list.GetProperty("last_restore").GetProperty("snapshot").GetString());
        using HttpResponseMessage deleted = await s_http.DeleteAsync($"http://{cluster.NodeId(2)}/admin/snapshots/{name}");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(0, (await cluster.HealthAsync(1)).GetProperty("storage").GetProperty("snapshots").GetProperty("count").GetInt32());
        await Task.Delay(TimeSpan.FromSeconds(5));
        await work.VerifyAsync(all);
    }

    [Fact]
    public async Task BadSnapshotCalls_AreClearJsonErrors_AndChangeNothing_WithoutQuorumToo()
    {
        using TestCluster cluster = await TestCluster.StartAsync(69, 3, output);
        string one = $"http://{cluster.NodeId(1)}";
        string two = $"http://{cluster.NodeId(2)}";
        await _admin.RefusedAsync(HttpStatusCode.BadRequest, "'name' is required", HttpMethod.Post, $"{one}/admin/snapshot", "{}");
        await _admin.RefusedAsync(HttpStatusCode.BadRequest, "'has space' is not a snapshot name", HttpMethod.Post, $"{two}/admin/snapshot", "{\"name\": \"has space\"}");
        await _admin.RefusedAsync(HttpStatusCode.BadRequest, "'name' must be a string", HttpMethod.Post, $"{two}/admin/snapshot", "{\"name\": 7}");
        await _admin.RefusedAsync(HttpStatusCode.BadRequest, "unknown field 'snapshot'", HttpMethod.Post, $"{two}/admin/snapshot", "{\"snapshot\": \"s\"}");
        await _admin.RefusedAsync(HttpStatusCode.BadRequest, "1 to 128 characters", HttpMethod.Post, $"{two}/admin/snapshot", $"{{\"name\": \"{new string('x', 129)}\"}}");
        await _admin.RefusedAsync(HttpStatusCode.BadRequest, "'snapshot' is required", HttpMethod.Post, $"{two}/admin/restore", "{\"force\": true}");
        await _admin.RefusedAsync(HttpStatusCode.NotFound, "no snapshot named nightly", HttpMethod.Post, $"{two}/admin/restore", "{\"snapshot\": \"nightly\"}");
        await _admin.RefusedAsync(HttpStatusCode.NotFound, "no snapshot named nightly", HttpMethod.Delete, $"{two}/admin/snapshots/nightly", null);
        await _admin.RefusedAsync(HttpStatusCode.MethodNotAllowed, "takes POST", HttpMethod.Get, $"{two}/admin/snapshot", null);

        // A deleted snapshot cannot be restored.
        (HttpStatusCode made, _) = await _admin.CallAsync(HttpMethod.Post, $"{one}/admin/snapshot", "{\"name\": \"nightly\"}");
        Assert.Equal(HttpStatusCode.OK, made);
        (HttpStatusCode gone, _) = await _admin.CallAsync(HttpMethod.Delete, $"{two}/admin/snapshots/nightly", null);
        Assert.Equal(HttpStatusCode.OK, gone);
        await _admin.RefusedAsync(HttpStatusCode.NotFound, "no snapshot named nightly", HttpMethod.Post, $"{one}/admin/restore", "{\"snapshot\": \"nightly\"}");

        // Without quorum: a 503 that says so, and no snapshot appears once the quorum is back.
        string leader = await cluster.WaitForAgreedLeaderAsync([1, 2, 3]);
        int survivor = cluster.NodeNumberOf(leader);
        int[] others = [.. new[] { 1, 2, 3 }.Where(n => n != survivor)];
        cluster.KillAtOnce(others);
        await _admin.RefusedAsync(HttpStatusCode.ServiceUnavailable, string.Empty, HttpMethod.Post, $"http://{leader}/admin/snapshot", "{\"name\": \"no-quorum\"}");
        foreach (int node in others)
        {
            cluster.Start(node);
        }

        await cluster.WaitForActiveNodesAsync([1, 2, 3], 3);
        JsonElement list = default;
        await cluster.WaitUntilAsync("the cluster answers admin calls again (a leader is elected)", async () =>
        {
            (HttpStatusCode status, list) = await _admin.CallAsync(HttpMethod.Get, $"{one}/admin/snapshots", null);
            return status == HttpStatusCode.OK;
        });
        Assert.Equal(0, list.GetProperty("snapshots").GetArrayLength());
    }
}
