using System.Formats.Tar;
using System.Text;
using O3Storage.Ctl.Api;
using O3Storage.Ctl.Update;
using O3Storage.Ctl.Views;

namespace O3Storage.Ctl.Tests;

public sealed class RollingUpdateTests
{
    private static MemberStatus Member(string id, string role, bool reachable = true, string status = "ok") =>
        new(id, role, "active", reachable, reachable ? status : null, "1.0.0", 0, 0, 0, role, null, null);

    private static ClusterStatus Cluster(string health, params MemberStatus[] members) =>
        new(health, $"{health}: test", "c", members.FirstOrDefault(m => m.Role == "leader")?.Id, 3, members.Count(m => m.Reachable), members.Length, true, true, null, null, members);

    [Fact]
    public void Order_FollowersByIdThenTheLeaderLast()
    {
        ClusterStatus status = Cluster(StatusView.Healthy, Member("10.0.0.2:8080", "leader"), Member("10.0.0.3:8080", "follower"), Member("10.0.0.1:8080", "follower"));
        Assert.Equal(["10.0.0.1:8080", "10.0.0.3:8080", "10.0.0.2:8080"], RollingUpdate.Order(status).Select(m => m.Id));
    }

    [Fact]
    public void Unsafe_OnlyAHealthyClusterWithEveryMemberServingMayLoseOne()
    {
        MemberStatus c = Member("c:1", "follower");
        Assert.Null(RollingUpdate.Unsafe(Cluster(StatusView.Healthy, Member("a:1", "leader"), Member("b:1", "follower"), c)));
        Assert.Contains("degraded", RollingUpdate.Unsafe(Cluster(StatusView.Degraded, Member("a:1", "leader"), Member("b:1", "follower", reachable: false), c)));
        Assert.Equal("member b:1 is not answering", RollingUpdate.Unsafe(Cluster(StatusView.Healthy, Member("a:1", "leader"), Member("b:1", "follower", reachable: false), c)));
        Assert.Equal("member b:1 is starting", RollingUpdate.Unsafe(Cluster(StatusView.Healthy, Member("a:1", "leader"), Member("b:1", "follower", status: "starting"), c)));
    }

    [Fact]
    public void Unsafe_OneOrTwoMembersLoseQuorumWhileOneReboots_UnlessAllowed()
    {
        ClusterStatus two = Cluster(StatusView.Healthy, Member("a:1", "leader"), Member("b:1", "follower"));
        Assert.Contains("no quorum", RollingUpdate.Unsafe(two));
        Assert.Contains("no quorum", RollingUpdate.Unsafe(Cluster(StatusView.Healthy, Member("a:1", "leader"))));
        Assert.Null(RollingUpdate.Unsafe(two, allowOutage: true));
    }

    [Theory]
    [InlineData("198.18.0.11:8080", "198.18.0.11")]
    [InlineData("[fd00::1]:8080", "fd00::1")]
    [InlineData("node-a", "node-a")]
    public void Host_IsTheMemberIdWithoutItsPort(string id, string host) => Assert.Equal(host, RollingUpdate.Host(id));

    [Fact]
    public void BoardStatus_ParsesWhatO3UpdateStatusPrints()
    {
        const string committed = "running: slot B, release 0.1.211+abc-good\nslot A: 0.1.211+abc\nslot B: 0.1.211+abc-good\nboot state: O3_SLOT=B\n"
            + "last update: state=committed\nlast update: slot=B\n";
        Assert.Equal(new BoardUpdateStatus("B", false, "0.1.211+abc-good", "committed"), BoardUpdateStatus.Parse(committed));
        Assert.Equal(new BoardUpdateStatus("A", true, "2.0", null), BoardUpdateStatus.Parse("running: slot A (on trial), release 2.0\n"));
        Assert.Null(BoardUpdateStatus.Parse("o3-update: this board did not boot through the A/B boot script"));
        Assert.Null(BoardUpdateStatus.Parse("running: slot C, release 1\n"));
    }

    private static MemoryStream Tar(params (string Name, string Text)[] entries)
    {
        var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Gnu, leaveOpen: true))
        {
            foreach ((string name, string text) in entries)
            {
                writer.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) });
            }
        }

        stream.Position = 0;
        return stream;
    }

    [Fact]
    public void ReadRelease_FromTheManifest_OrSaysWhyItIsNoBundle()
    {
        Assert.Equal("0.1.211+abc", RollingUpdate.ReadRelease(Tar(("manifest", "format=o3storage-update-1\nrelease=0.1.211+abc\nroot_bytes=1\n"), ("manifest.sig", "x"))));
        Assert.Contains("no manifest", Assert.Throws<FormatException>(() => RollingUpdate.ReadRelease(Tar(("other", "x")))).Message);
        Assert.Contains("o3storage-update-1", Assert.Throws<FormatException>(() => RollingUpdate.ReadRelease(Tar(("manifest", "format=2\nrelease=1\n")))).Message);
        Assert.Contains("not a tar archive", Assert.Throws<FormatException>(() => RollingUpdate.ReadRelease(new MemoryStream(new byte[1024].Select(_ => (byte)'x').ToArray()))).Message);
    }
}
