using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// o3ctl, the published native binary, against a real cluster with keys: every command that has an
/// endpoint, its --json answer checked, its refusals' exit codes (docs/o3ctl.md), asked through a
/// follower so that finding the leader is part of every call.
/// </summary>
public sealed class CtlTests(ITestOutputHelper output)
{
    private static string[] Ids(JsonElement status) =>
        [.. status.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("id").GetString()!)];

    [Fact]
    public async Task O3ctl_EveryCommandWithAnEndpoint_OnAFourNodeClusterWithKeys_JsonAnswersAndExitCodes()
    {
        using var keys = new KeyFile();
        using TestCluster cluster = await TestCluster.StartAsync(83, 4, output, "--api-keys", keys.Path);
        string leader = await cluster.WaitForAgreedLeaderAsync([1, 2, 3, 4]);
        int follower = cluster.NodeNumberOf(leader) == 2 ? 3 : 2;
        using var ctl = new O3ctl(output, cluster.Ip(follower), keys.Admin);
        using (AmazonS3Client s3 = KeyFile.Client(cluster, 1, keys.ReadWrite))
        {
            await s3.PutBucketAsync("ctl");
            for (int i = 0; i < 20; i++)
            {
                await s3.PutObjectAsync(new PutObjectRequest { BucketName = "ctl", Key = $"o{i}", ContentBody = new string('x', 1000 + i) });
            }
        }

        // status: every member's own report, the leader found through a follower.
        // The LEDs settle a moment after a join (a member that has not yet heard from every peer shows degraded).
        JsonElement status = default;
        await cluster.WaitUntilAsync("every member holds its replicas and shows its role on its LED", async () =>
        {
            (int code, string text, _) = await ctl.RunAsync("status", "--json");
            status = JsonDocument.Parse(text).RootElement.Clone();
            JsonElement[] members = [.. status.GetProperty("members").EnumerateArray()];
            return code == 0 && members.Sum(m => m.GetProperty("objects").GetInt64()) == 60
                && members.All(m => m.GetProperty("led").GetString() == m.GetProperty("role").GetString());
        });
        Assert.Equal(("healthy", leader, 4, 4), (status.GetProperty("health").GetString(), status.GetProperty("leader").GetString(),
            status.GetProperty("members_up").GetInt32(), status.GetProperty("members_total").GetInt32()));
        Assert.Equal([.. Enumerable.Range(1, 4).Select(cluster.NodeId)], Ids(status));
        foreach (JsonElement member in status.GetProperty("members").EnumerateArray())
        {
            bool isLeader = member.GetProperty("id").GetString() == leader;
            Assert.Equal(isLeader ? "leader" : "follower", member.GetProperty("role").GetString());
            Assert.Equal(("active", true, "ok"), (member.GetProperty("state").GetString(), member.GetProperty("reachable").GetBoolean(), member.GetProperty("status").GetString()));
            Assert.False(string.IsNullOrEmpty(member.GetProperty("version").GetString()));
            Assert.Equal(isLeader ? "leader" : "follower", member.GetProperty("led").GetString());
            Assert.True(member.GetProperty("capacity_bytes").GetInt64() > 0);
        }

        (int exit, string table, _) = await ctl.RunAsync("status");
        Assert.Equal(0, exit);
        Assert.Contains($"healthy: 4/4 members up, leader {leader}", table);
        Assert.All(Enumerable.Range(1, 4), n => Assert.Contains(cluster.NodeId(n), table));

        // A node that refuses the connection first: the next endpoint is asked.
        (exit, _, _) = await ctl.RunAsync("status", "--endpoint", $"127.83.0.9,{cluster.Ip(1)}");
        Assert.Equal(0, exit);

        // keys: listed with roles, never secrets; without a key, exit 4; adding has no call yet, exit 5.
        // Each member puts its key file into the cluster's list through Raft once it is a member, so
        // a list asked for right after the fourth join may not have them yet (it was empty once, in
        // stop 30's fresh-clone run).
        await cluster.WaitUntilAsync("the key files are in the cluster's list", async () =>
        {
            string text = (await ctl.JsonAsync(0, "keys", "list")).GetRawText();
            return text.Contains(KeyFile.AccessKeyId(keys.Admin), StringComparison.Ordinal) && text.Contains(KeyFile.AccessKeyId(keys.ReadOnly), StringComparison.Ordinal);
        });
        JsonElement listed = await ctl.JsonAsync(0, "keys", "list");
        string[] roles = [.. listed.GetProperty("keys").EnumerateArray().Select(k => $"{k.GetProperty("access_key_id").GetString()}={k.GetProperty("role").GetString()}")];
        Assert.Contains($"{KeyFile.AccessKeyId(keys.Admin)}=admin", roles);
        Assert.Contains($"{KeyFile.AccessKeyId(keys.ReadOnly)}=read-only", roles);
        Assert.DoesNotContain(keys.Admin, listed.GetRawText());
        using (var keyless = new O3ctl(output, cluster.Ip(follower), key: null))
        {
            Assert.Contains("--key", (await keyless.RefusedAsync(4, "keys", "list")).GetProperty("detail").GetString());
        }

        using (var reader = new O3ctl(output, cluster.Ip(follower), keys.ReadOnly))
        {
            await reader.RefusedAsync(4, "maintenance", "on");
        }

        await ctl.RefusedAsync(5, "keys", "add");

        // maintenance: on (status degraded, exit 6, with the reason), off again.
        JsonElement on = await ctl.JsonAsync(0, "maintenance", "on", "--reason", "o3ctl test");
        Assert.Equal((true, "o3ctl test", false), (on.GetProperty("enabled").GetBoolean(), on.GetProperty("reason").GetString(), on.GetProperty("write_enabled").GetBoolean()));
        JsonElement during = await ctl.JsonAsync(6, "status");
        Assert.Equal("degraded", during.GetProperty("health").GetString());
        Assert.Contains("maintenance mode (o3ctl test)", during.GetProperty("summary").GetString());
        Assert.True((await ctl.JsonAsync(0, "maintenance", "status")).GetProperty("enabled").GetBoolean());
        Assert.False((await ctl.JsonAsync(0, "maintenance", "off")).GetProperty("enabled").GetBoolean());
        await cluster.WaitUntilAsync("writes accepted again", async () => (await ctl.JsonAsync(0, "status")).GetProperty("write_enabled").GetBoolean());

        // snapshots: create (then exists), list, restore, delete (then a refusal, exit 1).
        JsonElement created = await ctl.JsonAsync(0, "snapshot", "create", "before-drain");
        Assert.Equal(("created", 20), (created.GetProperty("status").GetString(), created.GetProperty("snapshot").GetProperty("objects").GetInt32()));
        Assert.Equal("exists", (await ctl.JsonAsync(0, "snapshot", "create", "before-drain")).GetProperty("status").GetString());
        JsonElement generated = await ctl.JsonAsync(0, "snapshot", "create");
        Assert.Matches(@"^snapshot-\d{8}_\d{6}$", generated.GetProperty("name").GetString());
        JsonElement snapshots = await ctl.JsonAsync(0, "snapshot", "list");
        Assert.Contains("before-drain", snapshots.GetProperty("snapshots").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Equal("restored", (await ctl.JsonAsync(0, "snapshot", "restore", "before-drain")).GetProperty("status").GetString());
        Assert.Equal("already_restored", (await ctl.JsonAsync(0, "snapshot", "restore", "before-drain")).GetProperty("status").GetString());
        Assert.Equal("deleted", (await ctl.JsonAsync(0, "snapshot", "delete", "before-drain")).GetProperty("status").GetString());
        Assert.Contains("before-drain", (await ctl.RefusedAsync(1, "snapshot", "delete", "before-drain")).GetProperty("error").GetString());
        await ctl.RefusedAsync(2, "snapshot", "create", "no spaces allowed");

        // rebalance: a pass started and followed to its end (one JSON line per look), then its status.
        (exit, string lines, string errors) = await ctl.RunAsync("rebalance", "start", "--wait", "--interval", "0.5", "--json");
        Assert.True(exit == 0, errors);
        JsonElement last = JsonDocument.Parse(lines.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        Assert.Contains(last.GetProperty("state").GetString(), new[] { "done", "idle" });
        Assert.Equal(leader, (await ctl.JsonAsync(0, "rebalance", "status")).GetProperty("leader").GetString());

        // node drain: a live member drains, then leaves.
        int drained = cluster.NodeNumberOf(leader) == 4 ? 1 : 4;
        JsonElement draining = await ctl.JsonAsync(0, "node", "drain", cluster.NodeId(drained));
        Assert.Equal(("draining", true), (draining.GetProperty("state").GetString(), draining.GetProperty("was_up").GetBoolean()));
        // While it drains, status says degraded (exit 6); once it has left, healthy again.
        await cluster.WaitUntilAsync("the drained member left", async () =>
        {
            (int code, string text, _) = await ctl.RunAsync("status", "--json");
            Assert.True(code is 0 or 6, $"status exited {code}");
            return !Ids(JsonDocument.Parse(text).RootElement).Contains(cluster.NodeId(drained));
        });

        // node remove: a member that is down (status says so, exit 6) would leave fewer members than
        // replicas: refused (exit 1) until --force accepts it, then removed at once (was_up says whether
        // the leader had counted it down yet, which takes a grace period).
        int[] left = [.. Enumerable.Range(1, 4).Where(n => n != drained)];
        int down = left.First(n => n != follower && cluster.NodeId(n) != leader);
        cluster.Kill(down);
        await cluster.WaitUntilAsync("status sees the member down", async () =>
        {
            (int code, string text, _) = await ctl.RunAsync("status", "--json");
            return code == 6 && JsonDocument.Parse(text).RootElement.GetProperty("members").EnumerateArray()
                .Any(m => m.GetProperty("id").GetString() == cluster.NodeId(down) && m.GetProperty("state").GetString() == "down" && !m.GetProperty("reachable").GetBoolean());
        });
        Assert.Contains("fewer than replication_factor", (await ctl.RefusedAsync(1, "node", "remove", cluster.NodeId(down))).GetProperty("error").GetString());
        JsonElement removed = await ctl.JsonAsync(0, "node", "remove", cluster.NodeId(down), "--force");
        Assert.Equal("removed", removed.GetProperty("state").GetString());
        // The leader's list has lost it at once; a follower reports itself degraded until it has applied
        // the removal too (a heartbeat later), so healthy is waited for.
        (exit, string afterText, _) = await ctl.RunAsync("status", "--json");
        Assert.True(exit is 0 or 6, $"status exited {exit}");
        Assert.Equal([.. left.Where(n => n != down).Select(cluster.NodeId)], Ids(JsonDocument.Parse(afterText).RootElement));
        await cluster.WaitUntilAsync("healthy with the member removed", async () => (await ctl.RunAsync("status")).Exit == 0);
        Assert.Contains("is not a member", (await ctl.RefusedAsync(1, "node", "remove", cluster.NodeId(down))).GetProperty("error").GetString());
    }

    [Fact]
    public async Task O3ctl_InATerminal_RebalanceBarMovesToDone_StatusWatchShowsAJoinAndAKilledNode()
    {
        // Paced at 2 MiB/s, the pass that a fourth node starts (about 14 MiB) takes several seconds to watch.
        using TestCluster cluster = await TestCluster.StartAsync(84, 3, output, "--rebalance-rate", "2M");
        await new Workload(cluster).SeedAsync([1, 2, 3]);
        using var ctl = new O3ctl(output, cluster.Ip(1), key: null);
        using var terminal = new Terminal(output);
        string run = $"env HOME={ctl.Home} O3CTL_ENDPOINT={cluster.Ip(1)} {O3ctl.Path}";

        terminal.Start("watch", $"{run} status --watch --interval 1");
        await terminal.WaitForAsync("watch", "three members", screen => screen.Contains("healthy: 3/3 members up", StringComparison.Ordinal));

        cluster.Join(4, cluster.Peers(1), "--rebalance-rate", "2M");
        await terminal.WaitForAsync("watch", "the fourth member", screen => screen.Contains("4/4 members up", StringComparison.Ordinal) && screen.Contains(cluster.NodeId(4), StringComparison.Ordinal));

        // The bar: every percentage the pane showed while the pass ran, until o3ctl printed the pass done.
        var percents = new SortedSet<int>();
        terminal.Start("rebalance", $"{run} rebalance start --wait --interval 0.5");
        string end = await terminal.WaitForAsync("rebalance", "the pass done", screen => screen.Contains("[exited ", StringComparison.Ordinal), screen =>
        {
            foreach (System.Text.RegularExpressions.Match bar in System.Text.RegularExpressions.Regex.Matches(screen, @"rebalance \d+/\d+ objects.*?(\d+)%"))
            {
                percents.Add(int.Parse(bar.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        }, TimeSpan.FromMinutes(2));
        output.WriteLine($"percentages shown: {string.Join(", ", percents)}\n{end}");
        Assert.Contains("[exited 0]", end);
        Assert.Contains("done: ", end);
        Assert.True(percents.Count(p => p < 100) >= 2, $"the bar should move: it showed {string.Join(", ", percents)} %");

        string leader = await cluster.WaitForAgreedLeaderAsync([1, 2, 3, 4]);
        int killed = Enumerable.Range(2, 3).First(n => cluster.NodeId(n) != leader);
        cluster.Kill(killed);
        string screen = await terminal.WaitForAsync("watch", "the killed member", s => s.Contains("3/4 members up", StringComparison.Ordinal));
        Assert.Contains($"{cluster.NodeId(killed)} does not answer", screen.Replace("\n", string.Empty, StringComparison.Ordinal));
    }
}
