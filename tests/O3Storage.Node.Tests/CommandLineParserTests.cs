using O3Storage.Cluster;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.CommandLine;

namespace O3Storage.Node.Tests;

public sealed class CommandLineParserTests
{
    private static NodeOptions Run(params string[] args)
    {
        ParseResult result = CommandLineParser.Parse(args);
        return Assert.IsType<ParseResult.Run>(result, exactMatch: true).Options;
    }

    private static string Error(params string[] args) =>
        Assert.IsType<ParseResult.Error>(CommandLineParser.Parse(args), exactMatch: true).Message;

    [Fact]
    public void GuideBootstrap_ParsesWithDefaultClusterPort()
    {
        NodeOptions options = Run("--ip", "192.168.1.101", "--port", "8080", "--bootstrap");
        Assert.True(options.Bootstrap);
        Assert.Equal("192.168.1.101:8080", options.NodeId);
        Assert.Equal("192.168.1.101:8090", options.Cluster.ToString());
        Assert.Empty(options.Peers);
        Assert.Equal("/opt/o3storage/data", options.DataDirectory);
    }

    [Fact]
    public void GuidePeers_AcceptIpAndIpPortAndDropSelf()
    {
        NodeOptions options = Run("--ip", "192.168.1.104", "--port", "8080", "--peers", "192.168.1.101,192.168.1.102:9000,192.168.1.104,192.168.1.101");
        Assert.False(options.Bootstrap);
        Assert.Equal(["192.168.1.101:8080", "192.168.1.102:9000"], options.Peers.Select(p => p.ToString()));
    }

    [Fact]
    public void EqualsForm_AndExplicitClusterPortAndData_AreAccepted()
    {
        NodeOptions options = Run("--ip=127.0.0.2", "--port=9000", "--cluster-port=9500", "--peers=127.0.0.1", "--data=/tmp/x", "--join-timeout=500ms", "--orphan-grace=30m");
        Assert.Equal("127.0.0.2:9500", options.Cluster.ToString());
        Assert.Equal("/tmp/x", options.DataDirectory);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.JoinTimeout);
        Assert.Equal(TimeSpan.FromMinutes(30), options.OrphanGrace);
        Assert.Equal(TimeSpan.FromHours(1), Run("--ip=127.0.0.2", "--bootstrap").OrphanGrace);
    }

    [Fact]
    public void ScrubFlags_SetRateAndInterval_ZeroTurnsItOff()
    {
        NodeOptions defaults = Run("--ip=127.0.0.2", "--bootstrap");
        Assert.Equal((8L << 20, TimeSpan.FromHours(24)), (defaults.ScrubBytesPerSecond, defaults.ScrubInterval));
        NodeOptions set = Run("--ip=127.0.0.2", "--bootstrap", "--scrub-rate", "512K", "--scrub-interval", "6h");
        Assert.Equal((512L << 10, TimeSpan.FromHours(6)), (set.ScrubBytesPerSecond, set.ScrubInterval));
        Assert.Equal(0, Run("--ip=127.0.0.2", "--bootstrap", "--scrub-rate", "0").ScrubBytesPerSecond);
    }

    [Theory]
    [InlineData("unknown flag --bogus", "--ip", "10.0.0.1", "--bogus")]
    [InlineData("--bootstrap and --peers conflict", "--ip", "10.0.0.1", "--bootstrap", "--peers", "10.0.0.2")]
    [InlineData("--ip is required", "--bootstrap")]
    [InlineData("--ip 'box' is not an IP address", "--ip", "box", "--bootstrap")]
    [InlineData("not an address peers can reach", "--ip", "0.0.0.0", "--bootstrap")]
    [InlineData("--port '0' is not a port", "--ip", "10.0.0.1", "--port", "0", "--bootstrap")]
    [InlineData("--port 65530 leaves no room", "--ip", "10.0.0.1", "--port", "65530", "--bootstrap")]
    [InlineData("--cluster-port 8080 must differ", "--ip", "10.0.0.1", "--cluster-port", "8080", "--bootstrap")]
    [InlineData("--peers: 'x' is not an IP address", "--ip", "10.0.0.1", "--peers", "x")]
    [InlineData("--peers lists only this node", "--ip", "10.0.0.1", "--peers", "10.0.0.1:8080")]
    [InlineData("--port given twice", "--ip", "10.0.0.1", "--port", "1", "--port", "2")]
    [InlineData("--ip needs a value", "--ip")]
    [InlineData("--ip needs a value", "--ip", "--bootstrap")]
    [InlineData("unexpected argument 'start'", "start")]
    [InlineData("--bootstrap takes no value", "--ip", "10.0.0.1", "--bootstrap=yes")]
    [InlineData("--join-timeout 'soon' is not a duration", "--ip", "10.0.0.1", "--peers", "10.0.0.2", "--join-timeout", "soon")]
    [InlineData("--orphan-grace '2d' is not a duration", "--ip", "10.0.0.1", "--bootstrap", "--orphan-grace", "2d")]
    [InlineData("--orphan-grace '25h' is not a duration", "--ip", "10.0.0.1", "--bootstrap", "--orphan-grace", "25h")]
    [InlineData("--scrub-rate 'often' is not a size per second", "--ip", "10.0.0.1", "--bootstrap", "--scrub-rate", "often")]
    [InlineData("--scrub-interval '2d' is not a duration", "--ip", "10.0.0.1", "--bootstrap", "--scrub-interval", "2d")]
    [InlineData("--log-level 'loud'", "--ip", "10.0.0.1", "--bootstrap", "--log-level", "loud")]
    [InlineData("--config /nonexistent/cluster.json: no such file", "--ip", "10.0.0.1", "--config", "/nonexistent/cluster.json")]
    [InlineData("--device-size 100M is below the minimum of 268M", "--ip", "10.0.0.1", "--bootstrap", "--device-size", "100M")]
    [InlineData("--device-size 'lots' is not a size", "--ip", "10.0.0.1", "--bootstrap", "--device-size", "lots")]
    [InlineData("--device-size only sizes the default", "--ip", "10.0.0.1", "--bootstrap", "--device", "/dev/sdz9", "--device-size", "1G")]
    [InlineData("--compaction-rate 'fast' is not a size per second", "--ip", "10.0.0.1", "--bootstrap", "--compaction-rate", "fast")]
    [InlineData("--compaction-rate '-1M' is not a size per second", "--ip", "10.0.0.1", "--bootstrap", "--compaction-rate=-1M")]
    [InlineData("--require-direct-io takes no value", "--ip", "10.0.0.1", "--bootstrap", "--require-direct-io=yes")]
    [InlineData("--require-direct-io given twice", "--ip", "10.0.0.1", "--bootstrap", "--require-direct-io", "--require-direct-io")]
    public void BadInput_IsOneLineErrorNamingTheProblem(string expected, params string[] args)
    {
        string message = Error(args);
        Assert.Contains(expected, message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void HelpAndVersion_WinOverEverythingElse()
    {
        Assert.IsType<ParseResult.ShowHelp>(CommandLineParser.Parse(["--ip", "x", "--help"]));
        Assert.IsType<ParseResult.ShowVersion>(CommandLineParser.Parse(["--version"]));
        Assert.Contains("--peers", CommandLineParser.Usage);
    }

    [Theory]
    [InlineData("300M", 300L << 20)]
    [InlineData("1G", 1L << 30)]
    [InlineData("4097", 4096)]
    public void TryParseSize_AcceptsBinarySuffixesAndRoundsToBlocks(string text, long expected)
    {
        Assert.True(CommandLineParser.TryParseSize(text, out long bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("30", 30_000)]
    [InlineData("2s", 2_000)]
    [InlineData("1.5", 1_500)]
    [InlineData("250ms", 250)]
    public void TryParseDuration_AcceptsSecondsAndMilliseconds(string text, int expectedMs)
    {
        Assert.True(CommandLineParser.TryParseDuration(text, out TimeSpan duration));
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), duration);
    }

    [Fact]
    public void Config_LeaderRoleBootstrapsAndOthersJoinTheListedNodes()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cluster-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, ClusterConfigTests.GuideClusterJson);
        try
        {
            NodeOptions leader = Run("--ip", "192.168.1.101", "--config", path);
            Assert.True(leader.Bootstrap);
            Assert.Equal(new ClusterSettings("o3storage-prod", 3, ConsistencyLevel.Strong), leader.Settings);

            NodeOptions follower = Run("--ip", "192.168.1.103", "--config", path);
            Assert.False(follower.Bootstrap);
            Assert.Equal(["192.168.1.101:8080", "192.168.1.102:8080"], follower.Peers.Select(p => p.ToString()));

            NodeOptions explicitPeers = Run("--ip", "192.168.1.101", "--config", path, "--peers", "192.168.1.109");
            Assert.False(explicitPeers.Bootstrap);
            Assert.Equal([NodeAddressOf("192.168.1.109:8080")], explicitPeers.Peers);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static NodeAddress NodeAddressOf(string text)
    {
        Assert.True(NodeAddress.TryParse(text, 8080, out NodeAddress address, out _));
        return address;
    }

    [Fact]
    public void StorageFlags_DefaultToBufferedFallbackAnd16MiBPerSecond_AndParse()
    {
        NodeOptions defaults = Run("--ip", "10.0.0.1", "--bootstrap");
        Assert.False(defaults.RequireDirectIo);
        Assert.Equal(16L << 20, defaults.CompactionBytesPerSecond);

        NodeOptions set = Run("--ip", "10.0.0.1", "--bootstrap", "--require-direct-io", "--compaction-rate", "512K");
        Assert.True(set.RequireDirectIo);
        Assert.Equal(512L << 10, set.CompactionBytesPerSecond);
        Assert.Equal(0, Run("--ip", "10.0.0.1", "--bootstrap", "--compaction-rate=0").CompactionBytesPerSecond);
    }

    [Fact]
    public void Certificates_DefaultToTheGuidesDirectory_OrComeFromCerts()
    {
        NodeOptions defaults = Run("--ip", "10.0.0.1", "--bootstrap");
        Assert.Equal(("/opt/o3storage/certs", false), (defaults.CertificatesDirectory, defaults.CertificatesExplicit));
        NodeOptions set = Run("--ip", "10.0.0.1", "--bootstrap", "--certs", "/etc/o3/certs");
        Assert.Equal(("/etc/o3/certs", true), (set.CertificatesDirectory, set.CertificatesExplicit));
        Assert.Contains("--certs", Error("--ip", "10.0.0.1", "--bootstrap", "--certs"));
    }

    [Fact]
    public void JoinTokenFile_DefaultsBesideTheKeys_OrComesFromTheFlag()
    {
        NodeOptions defaults = Run("--ip", "10.0.0.2", "--peers", "10.0.0.1");
        Assert.Equal(("/opt/o3storage/join-token", false), (defaults.JoinTokenFile, defaults.JoinTokenExplicit));
        NodeOptions set = Run("--ip", "10.0.0.2", "--peers", "10.0.0.1", "--join-token-file", "/etc/o3/token");
        Assert.Equal(("/etc/o3/token", true), (set.JoinTokenFile, set.JoinTokenExplicit));
        Assert.Contains("--join-token-file", Error("--ip", "10.0.0.2", "--peers", "10.0.0.1", "--join-token-file"));
    }

    [Fact]
    public void ApiKeys_DefaultToTheGuidePath_AndKeysSubcommandTakesAPath()
    {
        NodeOptions defaults = Run("--ip", "10.0.0.1", "--bootstrap");
        Assert.Equal(("/opt/o3storage/api-keys.txt", false), (defaults.ApiKeysPath, defaults.ApiKeysExplicit));
        NodeOptions set = Run("--ip", "10.0.0.1", "--bootstrap", "--api-keys", "/etc/o3/keys.txt");
        Assert.Equal(("/etc/o3/keys.txt", true), (set.ApiKeysPath, set.ApiKeysExplicit));

        Assert.Equal("/opt/o3storage/api-keys.txt", Assert.IsType<ParseResult.ListKeys>(CommandLineParser.Parse(["keys"])).ApiKeysPath);
        Assert.Equal("/tmp/k.txt", Assert.IsType<ParseResult.ListKeys>(CommandLineParser.Parse(["keys", "--api-keys", "/tmp/k.txt"])).ApiKeysPath);
        Assert.Equal("/tmp/k.txt", Assert.IsType<ParseResult.ListKeys>(CommandLineParser.Parse(["keys", "--api-keys=/tmp/k.txt"])).ApiKeysPath);
        Assert.Contains("keys takes only --api-keys PATH", Error("keys", "--data", "/x"));
    }

    [Fact]
    public void Maintenance_CheckAndCompactTakeDataAndDevice()
    {
        var check = Assert.IsType<ParseResult.Maintain>(CommandLineParser.Parse(["check", "--data", "/tmp/d"]));
        Assert.Equal(("check", "/tmp/d", (string?)null), (check.Command, check.DataDirectory, check.DevicePath));
        var compact = Assert.IsType<ParseResult.Maintain>(CommandLineParser.Parse(["compact", "--device", "/dev/sdz9"]));
        Assert.Equal(("compact", "/opt/o3storage/data", "/dev/sdz9"), (compact.Command, compact.DataDirectory, compact.DevicePath));
        Assert.Contains("unknown argument '--ip'", Error("check", "--ip", "10.0.0.1"));
        Assert.Contains("--data needs a value", Error("compact", "--data"));
    }

    [Fact]
    public void LogFile_IsOffByDefault_AndTakesAFilePath()
    {
        Assert.Null(Run("--ip", "10.0.0.1", "--bootstrap").LogFilePath);
        Assert.Equal("/var/log/o3storage/o3storage.log", Run("--ip", "10.0.0.1", "--bootstrap", "--log-file", "/var/log/o3storage/o3storage.log").LogFilePath);
        Assert.Contains("--log-file '/var/log/' must name a file", Error("--ip", "10.0.0.1", "--bootstrap", "--log-file", "/var/log/"));
        Assert.Contains("--log-file needs a value", Error("--ip", "10.0.0.1", "--bootstrap", "--log-file"));
    }

    [Fact]
    public void Discover_WaitsMinutesToJoin_UnlessToldOtherwise()
    {
        // A board that found its cluster keeps joining for minutes: one busy with its own start (or a member
        // that has just bootstrapped) on a small board took more than the guide's 30 s in make test-fleet.
        Assert.Equal(TimeSpan.FromMinutes(5), Run("--ip", "10.0.0.5", "--discover").JoinTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), Run("--ip", "10.0.0.5", "--peers", "10.0.0.1").JoinTimeout);
        Assert.Equal(TimeSpan.FromSeconds(45), Run("--ip", "10.0.0.5", "--discover", "--join-timeout", "45s").JoinTimeout);
    }

    [Fact]
    public void Discover_UsesTheDefaultBootConfig_UnlessAFileIsGiven()
    {
        NodeOptions options = Run("--ip", "10.0.0.5", "--discover");
        Assert.True(options.Discover);
        Assert.False(options.Bootstrap);
        Assert.Empty(options.Peers);
        Assert.Equal(Provisioning.BootConfig.Default, options.BootConfig);

        string path = Path.Combine(Path.GetTempPath(), $"o3-bootcfg-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, "cluster_name=shop\njoin_token=shop-token-1234\nexpected_nodes=5\n");
        try
        {
            options = Run("--ip", "10.0.0.5", "--discover", "--boot-config", path);
            Assert.Equal("shop", options.BootConfig!.ClusterName);
            Assert.Equal(5, options.BootConfig.ExpectedNodes);

            // Without --discover a boot config still makes joins prove the token.
            options = Run("--ip", "10.0.0.5", "--peers", "10.0.0.1", "--boot-config", path);
            Assert.False(options.Discover);
            Assert.Equal("shop-token-1234", options.BootConfig!.JoinToken);
        }
        finally
        {
            File.Delete(path);
        }

        Assert.Null(Run("--ip", "10.0.0.5", "--bootstrap").BootConfig);
    }

    [Theory]
    [InlineData("--bootstrap", "--discover conflicts with --bootstrap")]
    [InlineData("--peers=10.0.0.1", "--discover conflicts with --peers")]
    public void Discover_ConflictsWithBootstrapAndPeers(string other, string expected)
    {
        Assert.StartsWith(expected, Error("--ip", "10.0.0.5", "--discover", other));
    }

    [Fact]
    public void BadBootConfig_IsAUsageError_NamingFileAndLine()
    {
        string path = Path.Combine(Path.GetTempPath(), $"o3-bootcfg-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, "expected_nodes=lots\n");
        try
        {
            Assert.Equal($"--boot-config {path}: line 1: expected_nodes must be a whole number from 1 to 99, not 'lots'", Error("--ip", "10.0.0.5", "--discover", "--boot-config", path));
            Assert.Equal($"--boot-config {path}.absent: no such file", Error("--ip", "10.0.0.5", "--discover", "--boot-config", path + ".absent"));
            Assert.Equal("--discover given twice", Error("--ip", "10.0.0.5", "--discover", "--discover"));
            Assert.Equal("--discover takes no value", Error("--ip", "10.0.0.5", "--discover=yes"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BootConfigCommand_TakesOneFile()
    {
        Assert.Equal("/x/o3storage.txt", Assert.IsType<ParseResult.CheckBootConfig>(CommandLineParser.Parse(["boot-config", "/x/o3storage.txt"])).Path);
        Assert.StartsWith("boot-config takes one argument", Error("boot-config"));
        Assert.StartsWith("boot-config takes one argument", Error("boot-config", "a", "b"));
    }
}
