// Owns: the cluster's join token turned into a key, and everything proved or sealed with it: mDNS adverts,
// join requests, and a node's enrolment (a joining node proves the token to a member and gets the cluster
// CA sealed with it). The token is stretched once (PBKDF2-SHA256, 600,000 rounds, salted with the cluster
// name), so a proof captured from the LAN lets an attacker test guesses of a human-chosen token only at
// that cost each; the tokens the node makes itself are 128 random bits and need no stretching to hold.
using System.Security.Cryptography;
using System.Text;

namespace O3Storage.Provisioning;

/// <summary>A join token, stretched into the key every proof of it is made with. Derive it once: it is slow on purpose.</summary>
public sealed class ClusterSecret
{
    /// <summary>PBKDF2-SHA256 rounds: OWASP's 2023 figure, about a second on a Raspberry Pi 4, once per node (the key is kept: FromToken with a cache file).</summary>
    public const int Iterations = 600_000;

    /// <summary>Tokens the node makes: this prefix and 32 hex digits (128 random bits).</summary>
    public const string GeneratedPrefix = "o3t1-";

    private readonly byte[] _key;

    private ClusterSecret(byte[] key) => _key = key;

    /// <summary>The secret of <paramref name="token"/> in cluster <paramref name="clusterName"/> (o3storage.txt's cluster_name; the default name for a cluster started with --bootstrap).</summary>
    public static ClusterSecret FromToken(string token, string clusterName)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentNullException.ThrowIfNull(clusterName);
        byte[] salt = Encoding.UTF8.GetBytes($"o3storage-join-token:v2:{clusterName}");
        return new ClusterSecret(Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(token), salt, Iterations, HashAlgorithmName.SHA256, 32));
    }

    /// <summary>
    /// As <see cref="FromToken(string, string)"/>, kept in <paramref name="cacheFile"/> (mode 600, beside
    /// the node's other secrets) so a node stretches its token once, not at every start: about a second
    /// on a Pi 4 and several under emulation, on every boot's critical path. The file names the token and
    /// cluster it was derived from by a fingerprint, so a changed token or name is stretched anew; a file
    /// that is damaged, or cannot be read or written, only costs the stretch.
    /// </summary>
    public static ClusterSecret FromToken(string token, string clusterName, string cacheFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentNullException.ThrowIfNull(clusterName);
        string fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{CacheVersion}\n{clusterName}\n{token}")));
        try
        {
            if (File.ReadAllText(cacheFile).Trim().Split(' ') is [CacheVersion, string cached, string key] && cached == fingerprint && key.Length == 64)
            {
                return new ClusterSecret(Convert.FromHexString(key));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }

        ClusterSecret secret = FromToken(token, clusterName);
        try
        {
            // Mode 600 from its creation (as the node's AtomicFile makes keys): never readable by others, not for a moment.
            string partial = cacheFile + ".partial";
            File.Delete(partial);
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
            using (var writer = new StreamWriter(partial, Encoding.ASCII, create))
            {
                writer.Write($"{CacheVersion} {fingerprint} {Convert.ToHexStringLower(secret._key)}\n");
            }

            File.Move(partial, cacheFile, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return secret;
    }

    private const string CacheVersion = "o3storage-join-key-v1";

    /// <summary>A new token: 128 random bits, hex, with a prefix that says what it is.</summary>
    public static string GenerateToken() => GeneratedPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The proof <paramref name="advert"/> should carry (its own TokenProof is ignored): first 16 bytes of the MAC, hex.</summary>
    public string AdvertProof(PeerAdvert advert)
    {
        ArgumentNullException.ThrowIfNull(advert);
        string state = advert.State == PeerState.Member ? "member" : "discovering";
        return Convert.ToHexStringLower(Mac($"o3storage-advert:v2:{advert.ClusterName}:{advert.NodeId}:{state}:{advert.BootstrapVote}").AsSpan(0, 16));
    }

    /// <summary>
    /// What a joining node sends with its join request: bound to its node id, its Raft endpoint and its
    /// identity uuid, which no advert shows, so a proof copied from mDNS cannot be replayed as a join.
    /// </summary>
    public string JoinProof(string nodeId, string clusterEndpoint, Guid uuid)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        ArgumentException.ThrowIfNullOrEmpty(clusterEndpoint);
        return Convert.ToHexStringLower(Mac($"o3storage-join-request:v2:{nodeId}:{clusterEndpoint}:{uuid:D}"));
    }

    /// <summary>
    /// What a node enrolling sends: bound to the member's one-use challenge (a seen request cannot be sent
    /// again), to the node and its uuid, and to the certificate the member answered its TLS connection
    /// with (a man in the middle with its own certificate cannot pass the proof on to the member).
    /// </summary>
    public string EnrollProof(string challenge, string nodeId, Guid uuid, ReadOnlySpan<byte> memberCertificateHash)
    {
        ArgumentException.ThrowIfNullOrEmpty(challenge);
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        return Convert.ToHexStringLower(Mac($"o3storage-enroll:v1:{challenge}:{nodeId}:{uuid:D}:{Convert.ToHexStringLower(memberCertificateHash)}"));
    }

    /// <summary>The advert with its proof.</summary>
    public PeerAdvert Sign(PeerAdvert advert) => advert with { TokenProof = AdvertProof(advert) };

    public bool VerifiesAdvert(PeerAdvert advert) => advert.TokenProof is { } proof && Same(proof, AdvertProof(advert));

    public bool VerifiesJoin(string nodeId, string clusterEndpoint, Guid uuid, string? proof) => proof is not null && Same(proof, JoinProof(nodeId, clusterEndpoint, uuid));

    public bool VerifiesEnroll(string challenge, string nodeId, Guid uuid, ReadOnlySpan<byte> memberCertificateHash, string? proof) =>
        proof is not null && Same(proof, EnrollProof(challenge, nodeId, uuid, memberCertificateHash));

    /// <summary>Encrypts <paramref name="plaintext"/> for holders of the token, bound to <paramref name="context"/> (AES-256-GCM).</summary>
    public string Seal(ReadOnlySpan<byte> plaintext, string context)
    {
        Span<byte> nonce = stackalloc byte[AesGcm.NonceByteSizes.MaxSize];
        RandomNumberGenerator.Fill(nonce);
        byte[] sealedBytes = new byte[nonce.Length + AesGcm.TagByteSizes.MaxSize + plaintext.Length];
        nonce.CopyTo(sealedBytes);
        using var aes = new AesGcm(SealKey(), AesGcm.TagByteSizes.MaxSize);
        aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(nonce.Length + AesGcm.TagByteSizes.MaxSize), sealedBytes.AsSpan(nonce.Length, AesGcm.TagByteSizes.MaxSize), Encoding.UTF8.GetBytes(context));
        return Convert.ToBase64String(sealedBytes);
    }

    /// <summary>What <see cref="Seal"/> sealed; null when it was sealed with another token or context, or was changed.</summary>
    public byte[]? Open(string sealedText, string context)
    {
        byte[] sealedBytes;
        try
        {
            sealedBytes = Convert.FromBase64String(sealedText);
        }
        catch (FormatException)
        {
            return null;
        }

        int header = AesGcm.NonceByteSizes.MaxSize + AesGcm.TagByteSizes.MaxSize;
        if (sealedBytes.Length < header)
        {
            return null;
        }

        byte[] plaintext = new byte[sealedBytes.Length - header];
        using var aes = new AesGcm(SealKey(), AesGcm.TagByteSizes.MaxSize);
        try
        {
            aes.Decrypt(sealedBytes.AsSpan(0, AesGcm.NonceByteSizes.MaxSize), sealedBytes.AsSpan(header), sealedBytes.AsSpan(AesGcm.NonceByteSizes.MaxSize, AesGcm.TagByteSizes.MaxSize), plaintext, Encoding.UTF8.GetBytes(context));
            return plaintext;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
    }

    private byte[] SealKey() => Mac("o3storage-seal-key:v1");

    private byte[] Mac(string message) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(message));

    private static bool Same(string proof, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(proof), Encoding.ASCII.GetBytes(expected));
}
