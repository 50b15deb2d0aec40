using System.Security.Cryptography;
using System.Text;
using O3Storage.Provisioning;

namespace O3Storage.Provisioning.Tests;

public sealed class ClusterSecretTests
{
    private static readonly Guid s_uuid = Guid.Parse("6a1f1f4e-8c1d-4a51-9d43-0f6b8f6c2a10");
    private static readonly byte[] s_memberCertificate = SHA256.HashData("member certificate"u8);
    private static readonly byte[] s_otherCertificate = SHA256.HashData("man in the middle"u8);

    private static ClusterSecret Home => TestSecrets.Of("token-abcdefgh", "home");

    private static ClusterSecret WrongToken => TestSecrets.Of("token-abcdefgX", "home");

    [Fact]
    public void JoinProof_VerifiesOnlyForItsTokenNodeEndpointAndUuid()
    {
        string proof = Home.JoinProof("10.0.0.2:8080", "10.0.0.2:8090", s_uuid);
        Assert.Equal(64, proof.Length);
        Assert.True(Home.VerifiesJoin("10.0.0.2:8080", "10.0.0.2:8090", s_uuid, proof));
        Assert.False(WrongToken.VerifiesJoin("10.0.0.2:8080", "10.0.0.2:8090", s_uuid, proof));
        Assert.False(Home.VerifiesJoin("10.0.0.3:8080", "10.0.0.2:8090", s_uuid, proof));
        Assert.False(Home.VerifiesJoin("10.0.0.2:8080", "10.0.0.66:8090", s_uuid, proof));
        Assert.False(Home.VerifiesJoin("10.0.0.2:8080", "10.0.0.2:8090", Guid.NewGuid(), proof));
        Assert.False(Home.VerifiesJoin("10.0.0.2:8080", "10.0.0.2:8090", s_uuid, null));
    }

    [Fact]
    public void AdvertProof_CannotBeReplayed_AsAJoinProof()
    {
        string advertProof = Home.AdvertProof(new PeerAdvert("10.0.0.2:8080", "home", PeerState.Discovering, null));
        Assert.False(Home.VerifiesJoin("10.0.0.2:8080", "10.0.0.2:8090", s_uuid, advertProof));
    }

    [Fact]
    public void ACopiedAdvert_CannotChangeItsStateOrVote()
    {
        PeerAdvert real = Home.Sign(new PeerAdvert("10.0.0.2:8080", "home", PeerState.Discovering, null, BootstrapVote: "10.0.0.1:8080"));
        Assert.True(Home.VerifiesAdvert(real));
        Assert.False(Home.VerifiesAdvert(real with { BootstrapVote = "10.0.0.9:8080" }));
        Assert.False(Home.VerifiesAdvert(real with { State = PeerState.Member }));
        Assert.False(Home.VerifiesAdvert(real with { ClusterName = "other" }));
        Assert.False(WrongToken.VerifiesAdvert(real));
    }

    [Fact]
    public void TheSameToken_InAnotherCluster_IsAnotherSecret()
    {
        PeerAdvert advert = new("10.0.0.2:8080", "home", PeerState.Discovering, null);
        Assert.NotEqual(Home.AdvertProof(advert), TestSecrets.Of("token-abcdefgh", "shop").AdvertProof(advert));
    }

    [Fact]
    public void EnrollProof_IsBoundToTheChallengeTheNodeAndTheMembersCertificate()
    {
        string proof = Home.EnrollProof("challenge-1", "10.0.0.2:8080", s_uuid, s_memberCertificate);
        Assert.True(Home.VerifiesEnroll("challenge-1", "10.0.0.2:8080", s_uuid, s_memberCertificate, proof));
        Assert.False(Home.VerifiesEnroll("challenge-2", "10.0.0.2:8080", s_uuid, s_memberCertificate, proof));
        Assert.False(Home.VerifiesEnroll("challenge-1", "10.0.0.9:8080", s_uuid, s_memberCertificate, proof));
        Assert.False(Home.VerifiesEnroll("challenge-1", "10.0.0.2:8080", Guid.NewGuid(), s_memberCertificate, proof));
        Assert.False(Home.VerifiesEnroll("challenge-1", "10.0.0.2:8080", s_uuid, s_otherCertificate, proof)); // relayed through a man in the middle
        Assert.False(WrongToken.VerifiesEnroll("challenge-1", "10.0.0.2:8080", s_uuid, s_memberCertificate, proof));
    }

    [Fact]
    public void Sealed_OpensOnlyWithTheSameTokenAndContext_AndNotOnceChanged()
    {
        string sealedText = Home.Seal("the cluster CA"u8, "context-1");
        Assert.Equal("the cluster CA", Encoding.UTF8.GetString(Home.Open(sealedText, "context-1")!));
        Assert.Null(Home.Open(sealedText, "context-2"));
        Assert.Null(WrongToken.Open(sealedText, "context-1"));
        byte[] changed = Convert.FromBase64String(sealedText);
        changed[^1] ^= 1;
        Assert.Null(Home.Open(Convert.ToBase64String(changed), "context-1"));
        Assert.Null(Home.Open("not base64!", "context-1"));
        Assert.Null(Home.Open(Convert.ToBase64String(new byte[5]), "context-1"));
        Assert.NotEqual(sealedText, Home.Seal("the cluster CA"u8, "context-1")); // a fresh nonce each time
    }

    [Fact]
    public void GeneratedTokens_Carry128RandomBits()
    {
        string token = ClusterSecret.GenerateToken();
        Assert.StartsWith(ClusterSecret.GeneratedPrefix, token);
        Assert.Equal(32, token.Length - ClusterSecret.GeneratedPrefix.Length);
        Assert.True(token[ClusterSecret.GeneratedPrefix.Length..].All(Uri.IsHexDigit));
        Assert.NotEqual(token, ClusterSecret.GenerateToken());
    }

    [Fact]
    public void EachGuess_CostsTheFullStretching()
    {
        // An offline guesser pays this per guess: the proof is made with the stretched key, never the token.
        byte[] stretched = Rfc2898DeriveBytes.Pbkdf2("token-abcdefgh"u8, "o3storage-join-token:v2:home"u8, 600_000, HashAlgorithmName.SHA256, 32);
        byte[] mac = HMACSHA256.HashData(stretched, Encoding.UTF8.GetBytes($"o3storage-join-request:v2:10.0.0.2:8080:10.0.0.2:8090:{s_uuid:D}"));
        Assert.Equal(Convert.ToHexStringLower(mac), Home.JoinProof("10.0.0.2:8080", "10.0.0.2:8090", s_uuid));
    }

    [Fact]
    public void Cached_StretchedOnce_ThenRead_AndStretchedAnewForAnotherTokenOrName()
    {
        DirectoryInfo directory = Directory.CreateTempSubdirectory("o3-join-key-");
        try
        {
            string cache = Path.Combine(directory.FullName, "join-key");
            string proof = Home.JoinProof("10.0.0.2:8080", "10.0.0.2:8090", s_uuid);
            Assert.True(ClusterSecret.FromToken("token-abcdefgh", "home", cache).VerifiesJoin("10.0.0.2:8080", "10.0.0.2:8090", s_uuid, proof));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(cache));
            string[] written = File.ReadAllText(cache).Trim().Split(' ');
            Assert.Equal(3, written.Length);
            Assert.DoesNotContain("token-abcdefgh", File.ReadAllText(cache));

            // Read, not stretched: a key changed in the file is the key the secret holds.
            File.WriteAllText(cache, $"{written[0]} {written[1]} {new string('0', 64)}\n");
            Assert.False(ClusterSecret.FromToken("token-abcdefgh", "home", cache).VerifiesJoin("10.0.0.2:8080", "10.0.0.2:8090", s_uuid, proof));

            // Another token or cluster name is stretched anew (and replaces the file); so is a damaged file.
            Assert.False(ClusterSecret.FromToken("token-abcdefgX", "home", cache).VerifiesJoin("10.0.0.2:8080", "10.0.0.2:8090", s_uuid, proof));
            Assert.True(ClusterSecret.FromToken("token-abcdefgh", "home", cache).VerifiesJoin("10.0.0.2:8080", "10.0.0.2:8090", s_uuid, proof));
            Assert.False(ClusterSecret.FromToken("token-abcdefgh", "away", cache).VerifiesJoin("10.0.0.2:8080", "10.0.0.2:8090", s_uuid, proof));
            File.WriteAllText(cache, "garbage");
            Assert.True(ClusterSecret.FromToken("token-abcdefgh", "home", cache).VerifiesJoin("10.0.0.2:8080", "10.0.0.2:8090", s_uuid, proof));

            // A place it cannot write costs only the stretch.
            Assert.True(ClusterSecret.FromToken("token-abcdefgh", "home", Path.Combine(directory.FullName, "missing", "join-key")).VerifiesJoin("10.0.0.2:8080", "10.0.0.2:8090", s_uuid, proof));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
