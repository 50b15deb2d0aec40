using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// Whole-cluster power cuts that lose what a real one loses: every node's data directory is a
/// powercut-fs, which keeps every write that was not fsync'd (and every create, rename or unlink whose
/// directory was not fsync'd) only in memory. A cut kills every node at once, then each file system drops
/// what it had not made durable and tears the last unflushed write at a seeded point; the nodes restart
/// on what is left. Every write the cluster acknowledged must still read back, through every node, and
/// the nodes must agree on what they list. Seeded, so a failing round is rerun by its seed.
/// </summary>
public sealed class PowerCutTests(ITestOutputHelper output)
{
    [Theory]
    [Trait("Category", WholeClusterKillTests.Suite)]
    [InlineData(1611)]
    [InlineData(1612)]
    [InlineData(1613)]
    public async Task PowerCutUnderLoad_LosesNoAcknowledgedWrite_AndTheNodesAgree(int seed)
    {
        var random = new Random(seed);
        int[] all = [1, 2, 3];
        using var disks = new PowerCutDisks(output);
        using var cluster = new TestCluster(64, output);
        foreach (int node in all)
        {
            disks.Mount(node, cluster.DataDirectory(node), "--tear-seed", (seed * 10 + node).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        cluster.Bootstrap(1);
        await cluster.WaitForActiveNodesAsync([1], 1);
        cluster.Join(2, cluster.Peers(1));
        cluster.Join(3, cluster.Peers(1));
        await cluster.WaitForActiveNodesAsync(all, 3);
        var work = new Workload(cluster, "power-cut");
        await work.SeedAsync(all, count: 20);

        for (int round = 1; round <= 2; round++)
        {
            int before = work.Acknowledged.Count;
            using var load = new CancellationTokenSource();
            Task writing = work.BurstAsync(all, writers: 16, $"round-{round}", load.Token);
            await Task.Delay(1000 + random.Next(2000));
            cluster.KillAtOnce(all);
            await load.CancelAsync();
            await writing;
            disks.CutAll();
            output.WriteLine($"round {round}: {work.Acknowledged.Count - before} writes acknowledged before the cut");

            foreach (int node in all)
            {
                cluster.Start(node);
            }

            await cluster.WaitForActiveNodesAsync(all, 3);
            await cluster.WaitForAgreedLeaderAsync(all);
            await work.VerifyAsync(all);

            IReadOnlyList<string> first = await work.ListAsync(1);
            foreach (int node in all[1..])
            {
                Assert.Equal(first, await work.ListAsync(node));
            }

            Assert.Empty(work.Acknowledged.Keys.Except(first));
        }
    }
}
