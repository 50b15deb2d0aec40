using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// A cluster whose o3storage.txt sets a join token, joined by hand (--peers) as the guide does: the
/// right token gets in; a wrong token, or none, is refused at enrolment with the reason (exit 1), and
/// what the refused node wrote is removed so a corrected start begins clean.
/// </summary>
public sealed class JoinTokenTests(ITestOutputHelper output)
{
    private static string Config(TestCluster cluster, string name, string token)
    {
        string path = Path.Combine(cluster.Root, name);
        File.WriteAllText(path, $"cluster_name=shop\njoin_token={token}\nexpected_nodes=3\n");
        return path;
    }

    [Fact]
    public async Task ClosedCluster_AdmitsTheRightToken_RefusesAWrongOrMissingOne_WithTheReason()
    {
        using var cluster = new TestCluster(55, output);
        string right = Config(cluster, "right.txt", "shop-token-0123456789");
        string wrong = Config(cluster, "wrong.txt", "not-the-shop-token-42");
        cluster.Bootstrap(1, "--boot-config", right);
        await cluster.WaitForActiveNodesAsync([1], 1);

        NodeProcess withWrong = cluster.Join(2, cluster.Peers(1), "--boot-config", wrong);
        Assert.Equal(1, await withWrong.WaitForExitAsync(TestCluster.WaitTimeout));
        Assert.Contains($"enrolment with {cluster.NodeId(1)} refused: {cluster.NodeId(1)} refuses to enrol {cluster.NodeId(2)}: wrong join token", withWrong.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(cluster.DataDirectory(2), "raft")), "a refused node keeps no Raft state");

        cluster.JoinTokenFile = null;
        NodeProcess withNone = cluster.Join(3, cluster.Peers(1));
        Assert.Equal(1, await withNone.WaitForExitAsync(TestCluster.WaitTimeout));
        Assert.Contains("cluster admits nodes that prove its join token, and this node has none", withNone.Stderr, StringComparison.Ordinal);
        Assert.Contains("for a cluster formed at first boot, give its o3storage.txt with --boot-config", withNone.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(cluster.DataDirectory(3), "certs")), "a refused node keeps no certificates");

        // The same board with the right o3storage.txt joins.
        cluster.Join(2, cluster.Peers(1), "--boot-config", right);
        await cluster.WaitForActiveNodesAsync([1, 2], 2);
        Assert.Equal(2, (await cluster.HealthAsync(1)).GetProperty("cluster").GetProperty("total_nodes").GetInt32());
    }

    [Fact]
    public async Task OpenCluster_AdmitsTheGuidesPlainPeersJoin()
    {
        using var cluster = new TestCluster(56, output);
        string open = Path.Combine(cluster.Root, "open.txt");
        await File.WriteAllTextAsync(open, "# every setting at its default: the open cluster\n");
        NodeProcess first = cluster.Bootstrap(1, "--boot-config", open);
        cluster.JoinTokenFile = null; // the guide's plain line, nothing given: the open token is tried
        cluster.Join(2, cluster.Peers(1));
        await cluster.WaitForActiveNodesAsync([1, 2], 2);
        Assert.Contains("sets no join_token: any board on this network with a default card can join cluster 'o3storage'", first.Stdout, StringComparison.Ordinal);
    }
}
