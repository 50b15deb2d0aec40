using System.Globalization;
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
    public const string LongSuite = "power-cut-long";

    /// <summary>make test: three seeds, two cuts each on the same disks, 16 writers of 4 KiB.</summary>
    [Theory]
    [Trait("Category", WholeClusterKillTests.Suite)]
    [InlineData(1611)]
    [InlineData(1612)]
    [InlineData(1613)]
    public Task PowerCutUnderLoad_LosesNoAcknowledgedWrite_AndTheNodesAgree(int seed) =>
        RunAsync(subnet: 64, seed, cuts: 2, writers: 16, objectBytes: 4096, fsyncDelayMs: null, deviceSize: "300M");

    /// <summary>
    /// make test-power-cut-long: O3_POWERCUT_ROUNDS rounds (default 3) of each workload the issue names,
    /// with and without SD-card fsync latency, each round on a fresh cluster (seed 1700 + round).
    /// </summary>
    [Theory]
    [Trait("Category", LongSuite)]
    [InlineData(64, 4096, null)]
    [InlineData(64, 4096, "5-20")]
    [InlineData(8, 1 << 20, null)]
    [InlineData(8, 1 << 20, "5-20")]
    [InlineData(2, 64 << 20, null)]
    [InlineData(2, 64 << 20, "5-20")]
    public async Task PowerCutRounds_LoseNoAcknowledgedWrite(int writers, int objectBytes, string? fsyncDelayMs)
    {
        int rounds = int.TryParse(Environment.GetEnvironmentVariable("O3_POWERCUT_ROUNDS"), CultureInfo.InvariantCulture, out int n) && n > 0 ? n : 3;
        int firstSeed = int.TryParse(Environment.GetEnvironmentVariable("O3_POWERCUT_SEED"), CultureInfo.InvariantCulture, out int s) ? s : 1700;
        for (int round = 0; round < rounds; round++)
        {
            await RunAsync(subnet: 65, firstSeed + round, cuts: 1, writers, objectBytes, fsyncDelayMs, deviceSize: objectBytes >= 64 << 20 ? "1536M" : "512M");
        }
    }

    private async Task RunAsync(int subnet, int seed, int cuts, int writers, int objectBytes, string? fsyncDelayMs, string deviceSize)
    {
        var random = new Random(seed);
        int[] all = [1, 2, 3];
        using var disks = new PowerCutDisks(output);
        using var cluster = new TestCluster(subnet, output) { DeviceSize = deviceSize };
        foreach (int node in all)
        {
            string[] delay = fsyncDelayMs is null ? [] : ["--fsync-delay-ms", fsyncDelayMs];
            disks.Mount(node, cluster.DataDirectory(node), ["--tear-seed", (seed * 10 + node).ToString(CultureInfo.InvariantCulture), .. delay]);
        }

        await cluster.FormAsync(3);
        var work = new Workload(cluster, "power-cut");
        await work.SeedAsync(all, count: 20);

        for (int cut = 1; cut <= cuts; cut++)
        {
            int before = work.Acknowledged.Count;
            using var load = new CancellationTokenSource();
            Task writing = work.BurstAsync(all, writers, $"cut-{cut}", load.Token, objectBytes);
            // Large objects take longer each: cut later, so some were acknowledged and some are in flight.
            int loadMs = (objectBytes >= 1 << 20 ? 3000 : 1000) + random.Next(2000);
            await Task.Delay(loadMs);
            cluster.KillAtOnce(all);
            await load.CancelAsync();
            await writing;
            disks.CutAll();
            output.WriteLine($"seed {seed} cut {cut}: {work.Acknowledged.Count - before} writes of {objectBytes} bytes acknowledged in {loadMs} ms ({writers} writers, fsync delay {fsyncDelayMs ?? "none"})");

            foreach (int node in all)
            {
                cluster.Start(node);
            }

            await cluster.WaitForActiveNodesAsync(all, 3);
            await cluster.WaitForAgreedLeaderAsync(all);
            await work.VerifyAsync(all);
            await work.AssertNodesAgreeAsync(all);
        }
    }
}
