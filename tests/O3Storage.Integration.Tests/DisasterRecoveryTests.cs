using System.Text.Json;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// The guide's "Disaster Recovery" and "Cluster Splitting" on real nodes with 500 objects, every one checked
/// by SHA-256 through every node: a backup taken as cluster-backup.sh takes it (every node stopped, each
/// data directory in a tar.gz), Scenario 2 as written (restore all three, --bootstrap the first, --peers
/// the others), the split, and the guard against a stale --bootstrap splitting a live cluster.
/// </summary>
public sealed class DisasterRecoveryTests(ITestOutputHelper output)
{
    private static async Task StopAsync(TestCluster cluster, params int[] nodes)
    {
        foreach (int node in nodes)
        {
            cluster.Process(node).Terminate();
        }

        foreach (int node in nodes)
        {
            await cluster.Process(node).WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private async Task ShellAsync(string script)
    {
        (int exit, _) = await GuideShell.RunAsync(script, output);
        Assert.Equal(0, exit);
    }

    private static async Task<JsonElement> ClusterAsync(TestCluster cluster, int node) =>
        (await cluster.HealthAsync(node)).GetProperty("cluster");

    private static async Task<long> UsedBytesAsync(TestCluster cluster, int node) =>
        (await cluster.HealthAsync(node)).GetProperty("storage").GetProperty("used_space_bytes").GetInt64();

    private static async Task<Guid> UuidAsync(TestCluster cluster, int node) =>
        (await ClusterAsync(cluster, node)).GetProperty("cluster_uuid").GetGuid();

    /// <summary>Waits until <paramref name="nodes"/> serve as one cluster of exactly them, with no object under-replicated; returns its uuid.</summary>
    private static async Task<Guid> WaitForOneClusterAsync(TestCluster cluster, int[] nodes)
    {
        Guid uuid = Guid.Empty;
        await cluster.WaitUntilAsync($"{string.Join(",", nodes)} form one cluster of {nodes.Length} with nothing under-replicated", async () =>
        {
            var uuids = new HashSet<Guid>();
            foreach (int node in nodes)
            {
                if (await cluster.TryHealthAsync(node) is not { Status: System.Net.HttpStatusCode.OK } health)
                {
                    return false;
                }

                JsonElement state = health.Body.GetProperty("cluster");
                if (state.GetProperty("total_nodes").GetInt32() != nodes.Length || state.GetProperty("active_nodes").GetInt32() != nodes.Length
                    || health.Body.GetProperty("storage").GetProperty("under_replicated_objects").GetInt64() != 0
                    || state.GetProperty("cluster_uuid").ValueKind != JsonValueKind.String)
                {
                    return false;
                }

                uuids.Add(state.GetProperty("cluster_uuid").GetGuid());
            }

            uuid = uuids.Single();
            return uuids.Count == 1;
        }, TimeSpan.FromMinutes(2));
        return uuid;
    }

    private static readonly int[] s_all = [1, 2, 3];

    /// <summary>A cluster of three on <paramref name="subnet"/> holding the 500 objects of a seeded workload, and its uuid.</summary>
    private async Task<(TestCluster Cluster, Workload Work, Guid Uuid)> SeededAsync(int subnet)
    {
        TestCluster cluster = await TestCluster.StartAsync(subnet, 3, output);
        var work = new Workload(cluster);
        await work.SeedAsync(s_all);
        return (cluster, work, await UuidAsync(cluster, 1));
    }

    /// <summary>The guide's "Scenario 2: Majority Node Failure (Quorum Lost)", verbatim.</summary>
    private const string GuideScenario2 = """
        # Stop all remaining nodes
        for node in 192.168.1.101 192.168.1.102; do
            ssh $node "sudo systemctl stop o3storage"
        done

        # Restore from backup on all nodes
        BACKUP_DATE="20241201_143000"
        for i in 1 2 3; do
            node_ip="192.168.1.10$i"
            echo "Restoring node $i ($node_ip)..."

            # Restore data
            scp "/backup/o3storage/$BACKUP_DATE/node-$i-data.tar.gz" $node_ip:/tmp/
            ssh $node_ip "sudo rm -rf /opt/o3storage/data/*"
            ssh $node_ip "sudo tar -xzf /tmp/node-$i-data.tar.gz -C /"
            ssh $node_ip "sudo chown -R o3storage:o3storage /opt/o3storage/data"
        done

        # Start cluster with bootstrap mode
        ssh 192.168.1.101 "./o3storage --ip 192.168.1.101 --port 8080 --bootstrap"
        sleep 30

        # Start other nodes
        ssh 192.168.1.102 "./o3storage --ip 192.168.1.102 --port 8080 --peers 192.168.1.101"
        ssh 192.168.1.103 "./o3storage --ip 192.168.1.103 --port 8080 --peers 192.168.1.101"
        """;

    /// <summary>Runs the guide's cluster-backup.sh (every node stopped, each data directory archived, every node started); returns the backup directory.</summary>
    private static async Task<string> BackupAsync(TestCluster cluster, FleetShell fleet)
    {
        File.WriteAllText(Path.Combine(cluster.Root, "cluster.json"), fleet.Localize(File.ReadAllText(Path.Combine(NodeBinary.RepositoryRoot, "tests", "guide", "cluster.json"))));
        (int exit, string said) = await fleet.RunAsync(fleet.Localize(File.ReadAllText(Path.Combine(NodeBinary.RepositoryRoot, "tests", "guide", "cluster-backup.sh"))));
        Assert.Equal(0, exit);
        string directory = System.Text.RegularExpressions.Regex.Match(said, "Cluster backup completed: (\\S+)").Groups[1].Value;
        Assert.All(s_all, n => Assert.True(File.Exists(Path.Combine(directory, $"node-{n}-data.tar.gz"))));
        Assert.True(File.Exists(Path.Combine(directory, "cluster.json")));
        await cluster.WaitForActiveNodesAsync(s_all, 3);
        await cluster.WaitForAgreedLeaderAsync(s_all);
        return directory;
    }

    [Fact]
    public async Task Scenario2_AsWritten_FromTheGuidesBackup_EveryObjectBack_OneNewCluster_CopiesKept()
    {
        (TestCluster cluster, Workload work, Guid original) = await SeededAsync(71);
        using TestCluster owned = cluster;
        int[] all = s_all;
        var fleet = new FleetShell(cluster, output, 3);
        var atBackup = work.Acknowledged.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        long[] usedAtBackup = await Task.WhenAll(all.Select(n => UsedBytesAsync(cluster, n)));
        string backup = await BackupAsync(cluster, fleet);

        // Life goes on after the backup, then a majority of the boards fails: those writes are lost with them.
        for (int i = 0; i < 20; i++)
        {
            int n = i;
            await cluster.WaitUntilAsync("a write after the backup is acknowledged", () => work.WriteAsync(all[n % 3], $"after-backup/{n:D2}", 1500, 50_000 + n));
        }

        cluster.KillAtOnce([2, 3]);

        // Scenario 2 as written, but for its sleep 30: what it waits for, the first node listening (it then
        // decides within 15 s, and the others wait for it while it answers "starting").
        string listening = $"for _ in $(seq 1 300); do (exec 3<>/dev/tcp/{cluster.Ip(1)}/{TestCluster.ApiPort}) 2>/dev/null && break; sleep 0.1; done";
        string scenario = fleet.Localize(GuideScenario2).Replace("20241201_143000", Path.GetFileName(backup), StringComparison.Ordinal).Replace("sleep 30", listening, StringComparison.Ordinal);
        (int exit, _) = await fleet.RunAsync(scenario);
        Assert.Equal(0, exit);

        Guid renewed = await WaitForOneClusterAsync(cluster, all);
        Assert.NotEqual(original, renewed);
        work.ExpectExactly(atBackup);
        await work.VerifyAsync(all);
        await work.VerifyAbsentAsync(Enumerable.Range(0, 20).Select(i => $"after-backup/{i:D2}"), all);
        Assert.Contains("starting a new cluster from this node's data (500 objects in 1 buckets", cluster.Process(1).Stdout);
        Assert.Contains("joining 127.71.0.1:8080's cluster as a new member, keeping this node's blobs", cluster.Process(2).Stdout);
        // The joining nodes' copies counted again: nothing was copied to them.
        Assert.Equal(usedAtBackup, await Task.WhenAll(all.Select(n => UsedBytesAsync(cluster, n))));
    }

    [Fact]
    public async Task Scenario3_RestoreClusterFromBackup_OnWipedBoards_TheSameClusterWithEveryObject()
    {
        (TestCluster cluster, Workload work, Guid original) = await SeededAsync(74);
        using TestCluster owned = cluster;
        var fleet = new FleetShell(cluster, output, 3);
        string backup = await BackupAsync(cluster, fleet);

        // Every board lost: new ones at the same addresses, their data directories empty.
        cluster.KillAtOnce(s_all);
        foreach (int node in s_all)
        {
            Directory.Delete(cluster.DataDirectory(node), recursive: true);
        }

        string script = Path.Combine(NodeBinary.RepositoryRoot, "image", "rootfs", "opt", "o3storage", "restore-cluster-from-backup.sh");
        (int exit, string said) = await fleet.RunAsync($"{script} {backup}");
        Assert.Equal(0, exit);
        Assert.Contains($"Cluster restored from {backup}", said);
        Assert.Equal(original, await WaitForOneClusterAsync(cluster, s_all));
        await work.VerifyAsync(s_all);

        // A damaged archive stops it before any node is touched.
        File.WriteAllText(Path.Combine(backup, "node-2-data.tar.gz"), "not gzip");
        (int refused, string why) = await fleet.RunAsync($"{script} {backup}");
        Assert.Equal(1, refused);
        Assert.Contains("node-2-data.tar.gz is damaged", why);
        Assert.Equal(original, await WaitForOneClusterAsync(cluster, s_all));
    }

    [Fact]
    public async Task StaleBootstrap_OnARestartWhileTheClusterRuns_ResumesAndSaysWhy_NoSplit()
    {
        (TestCluster cluster, Workload work, Guid original) = await SeededAsync(72);
        using TestCluster owned = cluster;
        int[] all = s_all;

        // A unit file that still says --bootstrap: node 1 restarts with it while 2 and 3 run.
        await StopAsync(cluster, 1);
        NodeProcess restarted = cluster.Bootstrap(1);
        Assert.Equal(original, await WaitForOneClusterAsync(cluster, all));
        Assert.Contains("--bootstrap ignored: --data holds the state of a member of cluster o3storage and its member", restarted.Stdout);
        Assert.DoesNotContain("starting a new cluster", restarted.Stdout);
        Assert.True(await work.WriteAsync(1, "after-restart", 4000, 7));
        await work.VerifyAsync(all);
    }

    [Fact]
    public async Task Split_TheGuidesProcedure_TwoClusters_DifferentUuids_EachServesItsObjects_NoCrossTalk()
    {
        (TestCluster cluster, Workload work, Guid original) = await SeededAsync(73);
        using TestCluster owned = cluster;
        int[] all = s_all;

        // "Stop all nodes", then Cluster A (1 with --bootstrap, 2 with --peers 1) and Cluster B (3 with --bootstrap), at once.
        await StopAsync(cluster, all);
        cluster.Bootstrap(1);
        cluster.Join(2, cluster.Ip(1));
        cluster.Bootstrap(3);

        Guid a = await WaitForOneClusterAsync(cluster, [1, 2]);
        Guid b = await WaitForOneClusterAsync(cluster, [3]);
        Assert.Equal(3, new HashSet<Guid> { original, a, b }.Count);

        // Every object was on all three (replication factor 3): each cluster serves all of them.
        await work.VerifyAsync(all);

        // What one cluster writes, the other never sees.
        Assert.True(await work.WriteAsync(1, "split/on-a", 3000, 1));
        Assert.True(await work.WriteAsync(3, "split/on-b", 3000, 2));
        await work.VerifyAbsentAsync(["split/on-a"], [3]);
        await work.VerifyAbsentAsync(["split/on-b"], [1, 2]);
        Assert.Equal(2, (await ClusterAsync(cluster, 2)).GetProperty("total_nodes").GetInt32());
        Assert.Equal(1, (await ClusterAsync(cluster, 3)).GetProperty("total_nodes").GetInt32());
    }

    [Fact]
    public async Task Split_FiveNodes_TheSmallerSideReportsWhatItLacksAsUnderReplicated_AndSaysWhyItCannotServeIt()
    {
        using TestCluster cluster = await TestCluster.StartAsync(76, 5, output);
        int[] five = [1, 2, 3, 4, 5];
        var work = new Workload(cluster);
        await work.SeedAsync(five);

        // Cluster A: 1 and 2; cluster B: 3, 4 and 5. Every object has three replicas among five nodes,
        // so B holds a copy of each; A lacks the ones placed on 3, 4 and 5 alone.
        await StopAsync(cluster, five);
        cluster.Bootstrap(1);
        cluster.Join(2, cluster.Ip(1));
        cluster.Bootstrap(3);
        cluster.Join(4, cluster.Ip(3));
        cluster.Join(5, cluster.Ip(3));

        Guid b = await WaitForOneClusterAsync(cluster, [3, 4, 5]);
        await work.VerifyAsync([3, 4, 5]);

        // A repairs what it holds one copy of; what it holds none of stays under-replicated, and a read of it
        // is a 503 that says why.
        var unreadable = new List<string>();
        long under = -1;
        await cluster.WaitUntilAsync("cluster A's under-replicated count settles on the objects it cannot read", async () =>
        {
            if (await cluster.TryHealthAsync(1) is not { Status: System.Net.HttpStatusCode.OK, Body: var health }
                || health.GetProperty("cluster").GetProperty("total_nodes").GetInt32() != 2 || health.GetProperty("cluster").GetProperty("active_nodes").GetInt32() != 2)
            {
                return false;
            }

            under = health.GetProperty("storage").GetProperty("under_replicated_objects").GetInt64();
            unreadable.Clear();
            foreach (string key in work.Acknowledged.Keys)
            {
                using HttpResponseMessage answer = await s_http.GetAsync($"http://{cluster.NodeId(1)}/{work.Bucket}/{key}", HttpCompletionOption.ResponseHeadersRead);
                if (answer.StatusCode != System.Net.HttpStatusCode.OK)
                {
                    Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, answer.StatusCode);
                    Assert.Contains("no member of this cluster holds a replica", await answer.Content.ReadAsStringAsync());
                    unreadable.Add(key);
                }
            }

            return under == unreadable.Count;
        }, TimeSpan.FromMinutes(2));
        output.WriteLine($"cluster A lacks {unreadable.Count} of {work.Acknowledged.Count} objects");
        Assert.InRange(unreadable.Count, 1, work.Acknowledged.Count - 1);
        Guid a = await UuidAsync(cluster, 2);
        Assert.NotEqual(a, b);
        Assert.Equal(a, await UuidAsync(cluster, 1));

        // What A can read, it reads whole, through both of its nodes.
        var readable = work.Acknowledged.Where(p => !unreadable.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        work.ExpectExactly(readable);
        await work.VerifyAsync([1, 2]);
    }

    private static readonly HttpClient s_http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };
}
