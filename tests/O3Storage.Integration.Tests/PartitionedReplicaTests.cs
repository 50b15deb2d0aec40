using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// A replica cut off from Raft (its cluster port dropped both ways by nftables) while its API port still
/// answers: the others keep choosing it as a blob holder and commit without it, so for as long as the cut
/// lasts its own metadata names none of the blobs it takes. It outlives the orphan grace many times over,
/// and must delete none of them: collection confirms with a leader first, and it can reach none. After
/// the cut heals, every object still reads back with each other holder down in turn, so each one is read
/// from the replica that was cut off whenever it holds one.
/// </summary>
public sealed class PartitionedReplicaTests(ITestOutputHelper output)
{
    private static readonly string[] s_grace = ["--orphan-grace", "3s"];

    // NodeLog 5003 with a count above zero.
    private const string Collected = "collected [1-9][0-9]* garbage blobs";

    [Fact]
    public async Task AReplicaCutOffFromRaftPastTheOrphanGrace_DeletesNoCommittedBlob()
    {
        using TestCluster cluster = await TestCluster.StartAsync(67, 3, output, s_grace);
        var work = new Workload(cluster, "partitioned");
        long usedBefore = await UsedBytesAsync(cluster, 3);

        await using (await RaftCut.IsolateAsync(cluster, 3, output))
        {
            await cluster.WaitForAgreedLeaderAsync([1, 2]);
            await work.SeedAsync([1, 2], count: 40);
            Assert.Equal(0, await ObjectsAsync(cluster, 3)); // its metadata saw none of those commits: the cut holds

            long taken = await UsedBytesAsync(cluster, 3) - usedBefore;
            output.WriteLine($"node 3 took {taken} bytes of blobs while cut off");
            Assert.True(taken > 1 << 20, $"node 3 took only {taken} bytes of blobs while cut off: the test proves nothing");

            // Many collection rounds (every 750 ms) past the 3 s grace of every blob it took.
            await Task.Delay(TimeSpan.FromSeconds(12));
            Assert.DoesNotMatch(Collected, cluster.Process(3).Stdout);
            Assert.Contains("garbage collection deferred", cluster.Process(3).Stdout, StringComparison.Ordinal); // it did look, and held back
            Assert.True(await UsedBytesAsync(cluster, 3) - usedBefore >= taken, "node 3's device shrank while it was cut off");
        }

        await cluster.WaitForAgreedLeaderAsync([1, 2, 3]);
        await cluster.WaitUntilAsync("node 3 caught up", async () => await ObjectsAsync(cluster, 3) > 0);

        // Each of the others down in turn: an object node 3 holds is then read from node 3 (or nowhere).
        foreach ((int down, int other) in new[] { (1, 2), (2, 1) })
        {
            cluster.Kill(down);
            await cluster.WaitForAgreedLeaderAsync([other, 3]);
            await work.VerifyAsync([other, 3]);
            cluster.Start(down, s_grace);
            await cluster.WaitForActiveNodesAsync([1, 2, 3], 3);
        }

        Assert.DoesNotMatch(Collected, cluster.Process(3).Stdout);
    }

    private static async Task<long> ObjectsAsync(TestCluster cluster, int node) =>
        (await cluster.HealthAsync(node)).GetProperty("storage").GetProperty("total_objects").GetInt64();

    private static async Task<long> UsedBytesAsync(TestCluster cluster, int node) =>
        (await cluster.HealthAsync(node)).GetProperty("storage").GetProperty("used_space_bytes").GetInt64();

    /// <summary>
    /// nftables rules in the host's namespace dropping every packet to or from one node's cluster port
    /// (Raft): no AppendEntries reaches it, so it applies no commit. Its own requests to the others leave
    /// from 127.0.0.1 (DotNext does not bind its client sockets), so they and their answers pass; all they
    /// can do is ask for pre-votes (refused while the others have a leader) and ask the leader's commit
    /// index for a read barrier, which then waits for commits that cannot reach it. Removed on dispose.
    /// </summary>
    private sealed class RaftCut : IAsyncDisposable
    {
        private readonly string _table;
        private readonly ITestOutputHelper _output;

        private RaftCut(string table, ITestOutputHelper output)
        {
            _table = table;
            _output = output;
        }

        public static async Task<RaftCut> IsolateAsync(TestCluster cluster, int node, ITestOutputHelper output)
        {
            string table = $"o3test_raftcut_{cluster.Ip(node).Replace('.', '_')}";
            string ip = cluster.Ip(node);
            int port = TestCluster.ApiPort + 10; // the default cluster port
            await Tool.TryRunAsync(output, new Dictionary<string, string?>(), "nft", "delete", "table", "inet", table);
            await Tool.RunAsync(output, new Dictionary<string, string?>(), "nft", "add", "table", "inet", table);
            await Tool.RunAsync(output, new Dictionary<string, string?>(), "nft", $"add chain inet {table} out {{ type filter hook output priority 0; policy accept; }}");
            foreach (string rule in new[]
            {
                $"ip daddr {ip} tcp dport {port} drop", // to its Raft port
                $"ip saddr {ip} tcp sport {port} drop", // its Raft port's answers
                $"ip saddr {ip} tcp dport {port} drop", // from it to the others' Raft ports
                $"ip daddr {ip} tcp sport {port} drop", // their answers to it
            })
            {
                await Tool.RunAsync(output, new Dictionary<string, string?>(), "nft", $"add rule inet {table} out {rule}");
            }

            return new RaftCut(table, output);
        }

        public async ValueTask DisposeAsync() =>
            await Tool.TryRunAsync(_output, new Dictionary<string, string?>(), "nft", "delete", "table", "inet", _table);
    }
}
