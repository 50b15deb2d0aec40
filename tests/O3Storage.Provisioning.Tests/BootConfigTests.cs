using System.Net;
using O3Storage.Provisioning;

namespace O3Storage.Provisioning.Tests;

public sealed class BootConfigTests
{
    private static BootConfig Parse(string text)
    {
        BootConfig? config = BootConfig.TryParse(text, out IReadOnlyList<string> errors);
        Assert.True(config is not null, string.Join("; ", errors));
        return config!;
    }

    private static IReadOnlyList<string> Errors(string text)
    {
        Assert.Null(BootConfig.TryParse(text, out IReadOnlyList<string> errors));
        return errors;
    }

    [Fact]
    public void EmptyFile_IsTheDefault_WithTheOpenToken()
    {
        BootConfig config = Parse("");
        Assert.Equal(BootConfig.Default, config);
        Assert.Equal("o3storage", config.ClusterName);
        Assert.Equal(3, config.ExpectedNodes);
        Assert.True(config.IsOpen);
        Assert.Equal(BootConfig.OpenJoinToken, config.JoinToken);
    }

    [Fact]
    public void ShippedExample_ParsesToTheDefault()
    {
        // The commented template on the image's FAT partition must mean "defaults" until edited.
        string example = File.ReadAllText(Path.Combine(RepoRoot(), "image", "rootfs", "boot", "firmware", "o3storage.txt"));
        Assert.Equal(BootConfig.Default, Parse(example));
    }

    [Fact]
    public void NotepadFile_WithBomAndCrlf_Parses()
    {
        BootConfig config = Parse("\uFEFF# mine\r\ncluster_name = shop\r\njoin_token=\"s3cret-token-42\"\r\nexpected_nodes=5\r\nhostname=Shelf-A\r\n");
        Assert.Equal("shop", config.ClusterName);
        Assert.Equal("s3cret-token-42", config.JoinToken);
        Assert.False(config.IsOpen);
        Assert.Equal(5, config.ExpectedNodes);
        Assert.Equal("shelf-a", config.Hostname);
        Assert.Null(config.Address);
    }

    [Fact]
    public void NotesAfterAValue_AreComments_AsInTheDocsExample()
    {
        BootConfig config = Parse("join_token=3f9c1e0b8a7d4c2e9f1a6b5d7c8e0f12     # openssl rand -hex 16\nexpected_nodes=5\t# boards\nhostname=shelf-a #per card\n");
        Assert.Equal("3f9c1e0b8a7d4c2e9f1a6b5d7c8e0f12", config.JoinToken);
        Assert.Equal(5, config.ExpectedNodes);
        Assert.Equal("shelf-a", config.Hostname);

        // A '#' inside a value (no white space before it) stays part of it.
        Assert.Equal("tok#en-1234567", Parse("join_token=tok#en-1234567").JoinToken);
    }

    [Fact]
    public void StaticAddress_WithGatewayAndDns()
    {
        StaticAddress address = Parse("address=192.168.1.101/24\ngateway=192.168.1.1\ndns=192.168.1.1, 9.9.9.9\n").Address!;
        Assert.Equal(IPAddress.Parse("192.168.1.101"), address.Address);
        Assert.Equal(24, address.PrefixLength);
        Assert.Equal(IPAddress.Parse("192.168.1.1"), address.Gateway);
        Assert.Equal([IPAddress.Parse("192.168.1.1"), IPAddress.Parse("9.9.9.9")], address.Dns);
        Assert.Equal("192.168.1.101/24", address.ToString());
    }

    [Fact]
    public void EveryMistake_IsReported_WithItsLine()
    {
        IReadOnlyList<string> errors = Errors("""
            cluster_name=My Cluster
            join_token=short
            expected_nodes=three
            hostname=board.local
            address=192.168.1.300/24
            colour=blue
            just words
            cluster_name=again
            """);
        Assert.Equal(8, errors.Count);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], errors.Select(e => int.Parse(e.Split(':')[0][5..])));
        Assert.StartsWith("line 1: cluster_name must be", errors[0]);
        Assert.Contains(errors, e => e.StartsWith("line 2: join_token must be 12-128", StringComparison.Ordinal));
        Assert.Contains(errors, e => e == "line 3: expected_nodes must be a whole number from 1 to 99, not 'three'");
        Assert.Contains(errors, e => e.StartsWith("line 4: hostname must be", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("line 5: address must be IPv4 with a prefix length", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("line 6: unknown setting 'colour'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e == "line 7: expected key=value, found 'just words'");
        Assert.Contains(errors, e => e == "line 8: cluster_name is already set on line 1");
    }

    [Theory]
    [InlineData("address=10.1/24", "line 1: address must be")]
    [InlineData("address=10.0.0.5", "line 1: address must be")]
    [InlineData("address=10.0.0.5/31", "line 1: address must be")]
    [InlineData("gateway=10.0.0.1", "line 1: gateway needs address")]
    [InlineData("dns=10.0.0.1", "line 1: dns needs address")]
    [InlineData("address=10.0.0.5/24\ndns=10.0.0.1,fe80::1", "line 2: dns must be comma-separated IPv4")]
    [InlineData("expected_nodes=0", "line 1: expected_nodes must be")]
    [InlineData("expected_nodes=100", "line 1: expected_nodes must be")]
    [InlineData("join_token=has space in it", "line 1: join_token must be")]
    [InlineData("cluster_name=-edge", "line 1: cluster_name must be")]
    [InlineData("local_networks=100.64.0.0", "line 1: local_networks: '100.64.0.0' is not a network")]
    [InlineData("local_networks=100.64/10", "line 1: local_networks: '100.64/10' is not a network")]
    [InlineData("local_networks=100.64.0.0/33", "line 1: local_networks: '100.64.0.0/33' is not a network")]
    [InlineData("local_networks=100.64.0.0/+10", "line 1: local_networks: '100.64.0.0/+10' is not a network")]
    [InlineData("local_networks=tailnet", "line 1: local_networks: 'tailnet' is not a network")]
    [InlineData("local_networks=0.0.0.0/0", "line 1: local_networks: '0.0.0.0/0' is too wide (a prefix length of at least 8")]
    [InlineData("local_networks=64.0.0.0/2", "line 1: local_networks: '64.0.0.0/2' is too wide")]
    [InlineData("local_networks=::/0", "line 1: local_networks: '::/0' is too wide (a prefix length of at least 16")]
    [InlineData("local_networks=100.64.1.1/10", "line 1: local_networks: '100.64.1.1/10' has host bits set: the network is 100.64.0.0/10")]
    [InlineData("local_networks=fd7a:115c:a1e0::1/48", "line 1: local_networks: 'fd7a:115c:a1e0::1/48' has host bits set")]
    public void Invalid_IsRefused(string text, string expected)
    {
        Assert.Contains(Errors(text), e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void LocalNetworks_IPv4AndIPv6_InOrder()
    {
        BootConfig config = Parse("local_networks=100.64.0.0/10, fd7a:115c:a1e0::/48,198.18.0.0/15   # CGNAT, Tailscale, lab\n");
        Assert.Equal(["100.64.0.0/10", "fd7a:115c:a1e0::/48", "198.18.0.0/15"], config.LocalNetworks.Select(n => n.ToString()));
        Assert.Equal(Parse("local_networks=100.64.0.0/10,fd7a:115c:a1e0::/48,198.18.0.0/15"), config);
        Assert.NotEqual(Parse("local_networks=100.64.0.0/10"), config);
        Assert.Empty(BootConfig.Default.LocalNetworks);
    }

    [Fact]
    public void LocalNetworks_AtMostSixteen()
    {
        string sixteen = string.Join(',', Enumerable.Range(1, 16).Select(i => $"10.{i}.0.0/16"));
        Assert.Equal(16, Parse($"local_networks={sixteen}").LocalNetworks.Count);
        Assert.Equal(["line 1: local_networks takes at most 16 networks, not 17"], Errors($"local_networks={sixteen},10.99.0.0/16"));
    }

    [Fact]
    public void EmptyValues_MeanDefaults()
    {
        Assert.Equal(BootConfig.Default, Parse("cluster_name=\njoin_token=\nexpected_nodes=\nhostname=\naddress=\nlocal_networks=\n"));
    }

    [Fact]
    public void Load_MissingOrInvalidFile_NamesPathAndProblems()
    {
        string dir = Directory.CreateTempSubdirectory("o3-bootconfig-").FullName;
        try
        {
            Assert.Equal($"{Path.Combine(dir, "absent.txt")}: no such file", Assert.Throws<BootConfigException>(() => BootConfig.Load(Path.Combine(dir, "absent.txt"))).Message);
            string path = Path.Combine(dir, "o3storage.txt");
            File.WriteAllText(path, "expected_nodes=-1\nwhat=ever\n");
            BootConfigException e = Assert.Throws<BootConfigException>(() => BootConfig.Load(path));
            Assert.Equal($"{path}: line 1: expected_nodes must be a whole number from 1 to 99, not '-1'; line 2: unknown setting 'what' (known: cluster_name, join_token, expected_nodes, hostname, address, gateway, dns, local_networks)", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    internal static string RepoRoot()
    {
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "O3StorageOS.sln")))
        {
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("repository root not found");
        }

        return dir;
    }
}
