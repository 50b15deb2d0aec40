using O3Storage.Provisioning;

namespace O3Storage.Provisioning.Tests;

public sealed class AdvertTxtTests
{
    [Fact]
    public void Advert_RoundTrips_ThroughTxt()
    {
        PeerAdvert advert = TestSecrets.Sign("tok-123456789", new PeerAdvert("198.18.0.2:8080", "shop", PeerState.Discovering, null, "198.18.0.1:8080"));
        IReadOnlyList<string> txt = AdvertTxt.Encode(advert, "0.1.80");
        Assert.Equal("txtvers=1", txt[0]);
        Assert.Contains("version=0.1.80", txt);
        Assert.All(txt, entry => Assert.True(entry.Length < 255));
        Assert.Equal(advert, AdvertTxt.TryDecode(txt));
        Assert.Equal(advert with { State = PeerState.Member, BootstrapVote = null }, AdvertTxt.TryDecode(AdvertTxt.Encode(advert with { State = PeerState.Member, BootstrapVote = null }, "x")));
    }

    [Theory]
    [InlineData("txtvers=1", "cluster=decoy")] // another program's record under our type
    [InlineData("txtvers=2", "cluster=a", "node=10.0.0.1:8080", "state=member")] // a future version
    [InlineData("txtvers=1", "cluster=a", "node=10.0.0.1", "state=member")] // no port
    [InlineData("txtvers=1", "cluster=a", "node=10.0.0.1:8080", "state=leader")]
    [InlineData("txtvers=1", "cluster=", "node=10.0.0.1:8080", "state=member")]
    [InlineData("garbage")]
    public void ForeignOrBrokenRecords_DecodeToNull(params string[] txt)
    {
        Assert.Null(AdvertTxt.TryDecode(txt));
    }

    [Fact]
    public void FirstOccurrence_OfAKey_Wins_AndABadVote_IsDropped()
    {
        PeerAdvert? advert = AdvertTxt.TryDecode(["txtvers=1", "cluster=a", "CLUSTER=b", "node=10.0.0.1:8080", "state=discovering", "vote=nonsense"]);
        Assert.NotNull(advert);
        Assert.Equal("a", advert.ClusterName);
        Assert.Null(advert.BootstrapVote);
        Assert.Null(advert.TokenProof);
    }
}
