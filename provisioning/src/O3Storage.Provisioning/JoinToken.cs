using System.Security.Cryptography;
using System.Text;

namespace O3Storage.Provisioning;

/// <summary>
/// The cluster's join token (o3storage.txt) as it appears in mDNS: never the token itself, only a
/// proof bound to the advertising node id (HMAC-SHA256, first 16 bytes, hex). Peers with the same
/// token recognise each other; a board with another token is, to them, another cluster. A copied
/// proof only vouches for the node id it was made for, and the member checks the token itself when
/// the node joins, so the proof is a filter, not the authentication.
/// </summary>
public static class JoinToken
{
    public static string Proof(string token, string nodeId)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        byte[] mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes("o3storage-join:" + nodeId));
        return Convert.ToHexStringLower(mac.AsSpan(0, 16));
    }

    /// <summary>
    /// What a joining node sends with its join request: bound to its node id and its identity uuid,
    /// which no advert shows, so a proof copied from mDNS cannot be replayed as a join.
    /// </summary>
    public static string JoinProof(string token, string nodeId, Guid uuid)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        byte[] mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes($"o3storage-join-request:{nodeId}:{uuid:D}"));
        return Convert.ToHexStringLower(mac);
    }

    public static bool VerifiesJoin(string token, string nodeId, Guid uuid, string? proof) =>
        proof is not null
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(proof), Encoding.ASCII.GetBytes(JoinProof(token, nodeId, uuid)));

    public static bool Verifies(string token, PeerAdvert advert) =>
        advert.TokenProof is { } proof
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(proof), Encoding.ASCII.GetBytes(Proof(token, advert.NodeId)));
}
