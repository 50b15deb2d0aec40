using O3Storage.Provisioning;

namespace O3Storage.Provisioning.Tests;

public sealed class JoinTokenTests
{
    private static readonly Guid s_uuid = Guid.Parse("6a1f1f4e-8c1d-4a51-9d43-0f6b8f6c2a10");

    [Fact]
    public void JoinProof_VerifiesOnlyForItsTokenNodeEndpointAndUuid()
    {
        string proof = JoinToken.JoinProof("token-abcdefgh", "10.0.0.2:8080", "10.0.0.2:8090", s_uuid);
        Assert.Equal(64, proof.Length);
        Assert.True(JoinToken.VerifiesJoin("token-abcdefgh", "10.0.0.2:8080", "10.0.0.2:8090", s_uuid, proof));
        Assert.False(JoinToken.VerifiesJoin("token-abcdefgX", "10.0.0.2:8080", "10.0.0.2:8090", s_uuid, proof));
        Assert.False(JoinToken.VerifiesJoin("token-abcdefgh", "10.0.0.3:8080", "10.0.0.2:8090", s_uuid, proof));
        Assert.False(JoinToken.VerifiesJoin("token-abcdefgh", "10.0.0.2:8080", "10.0.0.66:8090", s_uuid, proof));
        Assert.False(JoinToken.VerifiesJoin("token-abcdefgh", "10.0.0.2:8080", "10.0.0.2:8090", Guid.NewGuid(), proof));
        Assert.False(JoinToken.VerifiesJoin("token-abcdefgh", "10.0.0.2:8080", "10.0.0.2:8090", s_uuid, null));
    }

    [Fact]
    public void AdvertProof_CannotBeReplayed_AsAJoinProof()
    {
        string advertProof = JoinToken.Proof("token-abcdefgh", new PeerAdvert("10.0.0.2:8080", "home", PeerState.Discovering, null));
        Assert.False(JoinToken.VerifiesJoin("token-abcdefgh", "10.0.0.2:8080", "10.0.0.2:8090", s_uuid, advertProof));
    }

    [Fact]
    public void ACopiedAdvert_CannotChangeItsStateOrVote()
    {
        PeerAdvert real = JoinToken.Sign("token-abcdefgh", new PeerAdvert("10.0.0.2:8080", "home", PeerState.Discovering, null, BootstrapVote: "10.0.0.1:8080"));
        Assert.True(JoinToken.Verifies("token-abcdefgh", real));
        Assert.False(JoinToken.Verifies("token-abcdefgh", real with { BootstrapVote = "10.0.0.9:8080" }));
        Assert.False(JoinToken.Verifies("token-abcdefgh", real with { State = PeerState.Member }));
        Assert.False(JoinToken.Verifies("token-abcdefgh", real with { ClusterName = "other" }));
        Assert.False(JoinToken.Verifies("token-abcdefgX", real));
    }
}
