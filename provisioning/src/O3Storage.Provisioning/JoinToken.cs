using System.Security.Cryptography;
using System.Text;

namespace O3Storage.Provisioning;

/// <summary>
/// The cluster's join token (o3storage.txt) as it appears in mDNS: never the token itself, only a
/// proof over the whole advert (cluster, node id, state and vote; HMAC-SHA256, first 16 bytes, hex).
/// Peers with the same token recognise each other; a board with another token is, to them, another
/// cluster. A copied advert can only be replayed as it was: its state and vote cannot be changed
/// without the token, so a stranger cannot forge a vote or a member. The member still checks the
/// token itself when a node joins (<see cref="JoinProof"/>), so the advert proof is a filter, not the
/// authentication.
/// </summary>
public static class JoinToken
{
    /// <summary>The proof <paramref name="advert"/> should carry (its own TokenProof is ignored).</summary>
    public static string Proof(string token, PeerAdvert advert)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentNullException.ThrowIfNull(advert);
        string state = advert.State == PeerState.Member ? "member" : "discovering";
        string message = $"o3storage-advert:v1:{advert.ClusterName}:{advert.NodeId}:{state}:{advert.BootstrapVote}";
        byte[] mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(message));
        return Convert.ToHexStringLower(mac.AsSpan(0, 16));
    }

    /// <summary>The advert with its proof under <paramref name="token"/>.</summary>
    public static PeerAdvert Sign(string token, PeerAdvert advert) => advert with { TokenProof = Proof(token, advert) };

    /// <summary>
    /// What a joining node sends with its join request: bound to its node id, its Raft endpoint and
    /// its identity uuid, which no advert shows, so a proof copied from mDNS cannot be replayed as a
    /// join, and a seen join request cannot be replayed with another Raft endpoint.
    /// </summary>
    public static string JoinProof(string token, string nodeId, string clusterEndpoint, Guid uuid)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        ArgumentException.ThrowIfNullOrEmpty(clusterEndpoint);
        byte[] mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes($"o3storage-join-request:v1:{nodeId}:{clusterEndpoint}:{uuid:D}"));
        return Convert.ToHexStringLower(mac);
    }

    public static bool VerifiesJoin(string token, string nodeId, string clusterEndpoint, Guid uuid, string? proof) =>
        proof is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(proof), Encoding.ASCII.GetBytes(JoinProof(token, nodeId, clusterEndpoint, uuid)));

    public static bool Verifies(string token, PeerAdvert advert) =>
        advert.TokenProof is { } proof
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(proof), Encoding.ASCII.GetBytes(Proof(token, advert)));
}
