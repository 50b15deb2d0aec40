using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>Wrong flags and hostile surroundings: one clear line, a non-zero exit, nothing written.</summary>
public sealed partial class BadInputTests(ITestOutputHelper output)
{
    private const int Subnet = 31;
    private static readonly TimeSpan s_exitTimeout = TimeSpan.FromSeconds(20);

    private static string Ip(int node) => $"127.{Subnet}.0.{node}";

    private static async Task<string> ExpectFailureAsync(int expectedExitCode, string expectedMessage, params string[] args)
    {
        (int exitCode, string stdout, string stderr) = await NodeProcess.RunToExitAsync(args, s_exitTimeout);
        string error = stderr.TrimEnd();
        Assert.True(exitCode == expectedExitCode, $"exit code {exitCode}, expected {expectedExitCode}; stderr: {stderr}; stdout: {stdout}");
        Assert.DoesNotContain('\n', error);
        Assert.StartsWith("o3storage: ", error);
        Assert.Contains(expectedMessage, error);
        return error;
    }

    private string FreshDataPath()
    {
        string path = Path.Combine(Path.GetTempPath(), $"o3-bad-{Guid.NewGuid():N}", "data");
        output.WriteLine($"data: {path}");
        return path;
    }

    [Fact]
    public async Task UnknownFlag_ExitsTwoWithOneLineAndWritesNothing()
    {
        string data = FreshDataPath();
        await ExpectFailureAsync(2, "unknown flag --bogus", "--ip", Ip(1), "--bootstrap", "--bogus", "--data", data);
        Assert.False(Directory.Exists(Path.GetDirectoryName(data)));
    }

    [Fact]
    public async Task BootstrapWithPeers_ExitsTwoAsConflict()
    {
        string data = FreshDataPath();
        await ExpectFailureAsync(2, "--bootstrap and --peers conflict", "--ip", Ip(1), "--bootstrap", "--peers", Ip(2), "--data", data);
        Assert.False(Directory.Exists(Path.GetDirectoryName(data)));
    }

    [Fact]
    public async Task UnreachablePeers_ExitOneNamingEachPeerAndWriteNothing()
    {
        string data = FreshDataPath();
        string error = await ExpectFailureAsync(1, "no peer answered within 1 s", "--ip", Ip(3), "--peers", $"{Ip(8)},{Ip(9)}:9000", "--join-timeout", "1s", "--data", data);
        Assert.Contains($"{Ip(8)}:8080: Connection refused", error);
        Assert.Contains($"{Ip(9)}:9000: Connection refused", error);
        Assert.False(Directory.Exists(Path.GetDirectoryName(data)));
    }

    [Fact]
    public async Task UnreachablePeers_WithATrailingSlashOnData_StillRemoveEveryDirectoryTheyMade()
    {
        string data = Path.Combine(FreshDataPath(), "nested") + "/";
        await ExpectFailureAsync(1, "no peer answered within 1 s", "--ip", Ip(3), "--peers", Ip(8), "--join-timeout", "1s", "--data", data);
        Assert.False(Directory.Exists(Path.GetDirectoryName(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(data)))));
    }

    [Fact]
    public async Task SigtermWhileWaitingForPeers_ExitsZeroAndWritesNothing()
    {
        string data = FreshDataPath();
        using NodeProcess node = NodeProcess.Start("waiting", ["--ip", Ip(6), "--peers", Ip(9), "--join-timeout", "60s", "--data", data]);

        // Waiting for its peers, and saying so (its SIGTERM handler is in place before the port answers).
        await TestCluster.PollAsync("the starting node answers /health with phase joining", async () =>
        {
            Assert.False(node.HasExited, node.Stderr);
            return await TestCluster.TryHealthAsync($"{Ip(6)}:{TestCluster.ApiPort}") is { Status: HttpStatusCode.ServiceUnavailable } starting
                && starting.Body.TryGetProperty("startup", out JsonElement startup)
                && startup.GetProperty("phase").GetString() == "joining";
        });

        node.Terminate();

        Assert.Equal(0, await node.WaitForExitAsync(s_exitTimeout));
        Assert.Contains("stopped by SIGTERM while starting", node.Stdout);
        Assert.Equal("", node.Stderr);
        Assert.False(Directory.Exists(Path.GetDirectoryName(data)));
    }

    [Theory]
    [InlineData(8080, "--port: 127.31.0.4:8080 is already in use")]
    [InlineData(8090, "--cluster-port: 127.31.0.4:8090 is already in use")]
    public async Task PortInUse_ExitsOneAndWritesNothing(int occupiedPort, string expected)
    {
        using var squatter = new TcpListener(IPAddress.Parse(Ip(4)), occupiedPort);
        squatter.Start();
        string data = FreshDataPath();

        await ExpectFailureAsync(1, expected, "--ip", Ip(4), "--port", "8080", "--bootstrap", "--data", data);

        Assert.False(Directory.Exists(Path.GetDirectoryName(data)));
    }

    [Fact]
    public async Task IpNotOnThisMachine_ExitsOne()
    {
        // 198.18.0.0/15 is reserved for tests and never configured outside the project's own namespaces.
        await ExpectFailureAsync(1, "--ip 198.18.255.254 is not an address of this machine", "--ip", "198.18.255.254", "--bootstrap", "--data", FreshDataPath());
    }

    [Fact]
    public async Task UnwritableDataDirectory_ExitsOne()
    {
        await ExpectFailureAsync(1, "--data /proc/o3storage-it/data: cannot create the directory", "--ip", Ip(5), "--bootstrap", "--data", "/proc/o3storage-it/data");
    }

    [Fact]
    public async Task DataPathIsAFile_ExitsOne()
    {
        string file = Path.GetTempFileName();
        try
        {
            await ExpectFailureAsync(1, "is a file, not a directory", "--ip", Ip(5), "--bootstrap", "--data", file);
            Assert.Equal(0, new FileInfo(file).Length);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task EmptyDataWithoutBootstrapOrPeers_ExitsOneSayingWhatToGive()
    {
        string data = FreshDataPath();
        await ExpectFailureAsync(1, "holds no cluster state: give --bootstrap to start a new cluster or --peers to join one", "--ip", Ip(5), "--data", data);
        Assert.False(Directory.Exists(Path.GetDirectoryName(data)));
    }

    [Fact]
    public async Task SecondProcessOnSameData_FailsFastAndFirstKeepsServing()
    {
        using TestCluster cluster = await TestCluster.StartAsync(32, 1, output);
        string identity = await File.ReadAllTextAsync(Path.Combine(cluster.DataDirectory(1), "node.json"));

        await ExpectFailureAsync(1, "is in use by another o3storage process", "--ip", cluster.Ip(1), "--port", "9080", "--bootstrap", "--data", cluster.DataDirectory(1));

        Assert.Equal(identity, await File.ReadAllTextAsync(Path.Combine(cluster.DataDirectory(1), "node.json")));
        await cluster.WaitForActiveNodesAsync([1], 1);
    }

    [Fact]
    public async Task DataOfAnotherNode_IsRefusedNamingItsOwner()
    {
        using TestCluster cluster = await TestCluster.StartAsync(33, 1, output);
        cluster.Process(1).Terminate();
        Assert.Equal(0, await cluster.Process(1).WaitForExitAsync(s_exitTimeout));

        await ExpectFailureAsync(1, $"--data belongs to node {cluster.NodeId(1)}", "--ip", cluster.Ip(2), "--bootstrap", "--data", cluster.DataDirectory(1));
    }

    [Fact]
    public async Task CheckAndCompact_RunOnAStoppedNode_AndRefuseALiveOne()
    {
        using TestCluster cluster = await TestCluster.StartAsync(34, 1, output);
        string data = cluster.DataDirectory(1);

        (int liveExit, _, string liveError) = await NodeProcess.RunToExitAsync(["check", "--data", data], s_exitTimeout);
        Assert.Equal(1, liveExit);
        Assert.Contains("in use by another o3storage process", liveError);

        cluster.Process(1).Terminate();
        Assert.Equal(0, await cluster.Process(1).WaitForExitAsync(s_exitTimeout));
        (int checkExit, string checkOutput, _) = await NodeProcess.RunToExitAsync(["check", "--data", data], s_exitTimeout);
        Assert.Equal(0, checkExit);
        Assert.Contains("0 blobs", checkOutput);
        (int compactExit, string compactOutput, _) = await NodeProcess.RunToExitAsync(["compact", "--data", data], s_exitTimeout);
        Assert.Equal(0, compactExit);
        Assert.Contains("segments reclaimed", compactOutput);

        // A device whose superblocks are gone is reported, not crashed on.
        await using (FileStream device = File.OpenWrite(Path.Combine(data, "blobs.dev")))
        {
            await device.WriteAsync(new byte[8192]);
            device.Position = 0;
            device.WriteByte(1);
        }

        await ExpectFailureAsync(1, "holds no valid o3storage superblock", "check", "--data", data);
    }

    [Fact]
    public async Task NoODirectFileSystem_RequireDirectIoRefuses_OtherwiseServesBufferedWithAWarning()
    {
        // ramfs has no O_DIRECT: development may fall back, production (--require-direct-io) may not.
        using var ramfs = new O3Storage.Storage.Tests.RamfsMount();
        string data = Path.Combine(ramfs.Path, "o3-it-data");
        await ExpectFailureAsync(1, "does not support O_DIRECT", "--ip", Ip(6), "--bootstrap", "--data", data, "--device-size", "300M", "--require-direct-io");
        Assert.False(Directory.Exists(data));

        using NodeProcess node = NodeProcess.Start("ramfs", ["--ip", Ip(6), "--bootstrap", "--data", data, "--device-size", "300M"]);
        Assert.False((await WaitForHealthAsync(node, Ip(6))).GetProperty("storage").GetProperty("direct_io").GetBoolean());
        Assert.Contains("does not support O_DIRECT; using buffered IO", node.Stdout + node.Stderr);
        node.Terminate();
        Assert.Equal(0, await node.WaitForExitAsync(s_exitTimeout));
    }

    [Fact]
    public async Task ApiKeys_OpenFileRefused_ValidFileTurnsAuthOn_NoFileSaysAuthIsOff()
    {
        string root = Path.Combine(Path.GetTempPath(), $"o3-it-keys-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        try
        {
            string keys = Path.Combine(root, "api-keys.txt");
            await File.WriteAllTextAsync(keys, $"admin:{new string('a', 64)}\nread-write:{new string('b', 64)}\nread-only:{new string('c', 64)}\n");
            File.SetUnixFileMode(keys, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            string data = Path.Combine(root, "data");

            await ExpectFailureAsync(1, $"run: chmod 600 {keys}", "--ip", Ip(7), "--bootstrap", "--data", data, "--api-keys", keys);
            Assert.False(Directory.Exists(data));
            await ExpectFailureAsync(1, "keys.txt: cannot read it", "keys", "--api-keys", Path.Combine(root, "missing", "keys.txt"));
            await ExpectFailureAsync(1, "does not exist", "--ip", Ip(7), "--bootstrap", "--data", data, "--api-keys", Path.Combine(root, "nope.txt"));

            File.SetUnixFileMode(keys, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            (int listExit, string listed, _) = await NodeProcess.RunToExitAsync(["keys", "--api-keys", keys], s_exitTimeout);
            Assert.Equal(0, listExit);
            Assert.Matches(@"^admin O3[0-9A-F]{18}\nread-write O3[0-9A-F]{18}\nread-only O3[0-9A-F]{18}\n$", listed);
            Assert.DoesNotContain(new string('a', 64), listed);

            using (NodeProcess node = NodeProcess.Start("keys-on", ["--ip", Ip(7), "--bootstrap", "--data", data, "--device-size", "300M", "--api-keys", keys]))
            {
                JsonElement auth = (await WaitForHealthAsync(node, Ip(7))).GetProperty("auth");
                Assert.True(auth.GetProperty("enabled").GetBoolean());
                Assert.Equal(3, auth.GetProperty("keys").GetInt32());
                Assert.Contains("authentication on: 3 keys", node.Stdout);
                // /health answers while the first bootstrap is still committing: stop it only once it says it serves (a member by then).
                for (var waited = System.Diagnostics.Stopwatch.StartNew(); !node.Stdout.Contains("serving on http://", StringComparison.Ordinal) && waited.Elapsed < TestCluster.WaitTimeout;)
                {
                    await Task.Delay(50);
                }

                node.Terminate();
                Assert.Equal(0, await node.WaitForExitAsync(s_exitTimeout));
            }

            // Restarted on the same data without the flag: the default path has no file here. The node's file
            // was the cluster's only source of keys, so they leave the cluster within seconds, and auth is off, loudly.
            using NodeProcess open = NodeProcess.Start("keys-off", ["--ip", Ip(7), "--data", data]);
            await WaitForHealthAsync(open, Ip(7));
            for (var waited = System.Diagnostics.Stopwatch.StartNew(); !open.Stdout.Contains("AUTHENTICATION IS OFF", StringComparison.Ordinal) && waited.Elapsed < TestCluster.WaitTimeout;)
            {
                await Task.Delay(100);
            }

            Assert.False((await WaitForHealthAsync(open, Ip(7))).GetProperty("auth").GetProperty("enabled").GetBoolean());
            Assert.Contains("AUTHENTICATION IS OFF", open.Stdout);
            open.Terminate();
            Assert.Equal(0, await open.WaitForExitAsync(s_exitTimeout));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The first /health answer of a node started outside a TestCluster.</summary>
    private static async Task<JsonElement> WaitForHealthAsync(NodeProcess node, string ip)
    {
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); waited.Elapsed < TestCluster.WaitTimeout && !node.HasExited; await Task.Delay(100))
        {
            if (await TestCluster.TryHealthAsync($"{ip}:{TestCluster.ApiPort}") is { Status: HttpStatusCode.OK } health)
            {
                return health.Body;
            }
        }

        throw new TimeoutException($"no /health from {ip}; stderr: {node.Stderr}");
    }

    [Fact]
    public async Task Version_PrintsSemverAndCommit()
    {
        (int exitCode, string stdout, _) = await NodeProcess.RunToExitAsync(["--version"], s_exitTimeout);
        Assert.Equal(0, exitCode);
        Assert.Matches(VersionPattern(), stdout.Trim());
    }

    [Fact]
    public async Task Help_ListsTheGuideFlags()
    {
        (int exitCode, string stdout, _) = await NodeProcess.RunToExitAsync(["--help"], s_exitTimeout);
        Assert.Equal(0, exitCode);
        foreach (string flag in new[] { "--ip", "--port", "--bootstrap", "--peers", "--data", "--cluster-port", "--config", "--version" })
        {
            Assert.Contains(flag, stdout);
        }
    }

    [GeneratedRegex(@"^o3storage \d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?\+[0-9a-f]{7,40}$")]
    private static partial Regex VersionPattern();
}
