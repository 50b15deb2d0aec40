using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace O3Storage.Cluster.Tests.Security;

/// <summary>CAs and node certificates made in memory, as the guide's openssl lines make them (CN = the node's IP) or with an IP SAN.</summary>
internal static class TestCertificates
{
    public static X509Certificate2 Authority(string name = "o3 test CA", DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), notAfter ?? DateTimeOffset.UtcNow.AddYears(1));
    }

    /// <summary>A node certificate with its private key, signed by <paramref name="authority"/>: CN = <paramref name="commonName"/>, and an IP SAN when given.</summary>
    public static X509Certificate2 Node(X509Certificate2 authority, string commonName, IPAddress? san = null, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        if (san is not null)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(san);
            request.CertificateExtensions.Add(names.Build());
        }

        DateTimeOffset from = notBefore ?? DateTimeOffset.UtcNow.AddHours(-1);
        DateTimeOffset to = notAfter ?? DateTimeOffset.UtcNow.AddDays(30);
        using X509Certificate2 signed = request.Create(authority, from, to, RandomNumberGenerator.GetBytes(8));
        return signed.CopyWithPrivateKey(key);
    }
}
