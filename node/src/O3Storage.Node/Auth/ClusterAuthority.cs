// Owns: the cluster CA of a cluster without the guide's certificates. The bootstrap node makes it, a node
// that proves the join token gets it (enrolment, sealed with the token), and each node issues its own
// certificate with it, naming its address, in the layout NodeCertificates reads (<data>/certs). The join
// token of a cluster started with --bootstrap lives beside it, so a member can show it to its owner.
// Assumes: every member holds the CA key (as Talos's control plane and k3s's servers do): any member can
// admit a node; whoever holds the token can become one. Validity is unbounded (RFC 5280's 9999-12-31):
// boards without a real-time clock boot with wrong dates, and rotation is by hand (docs/security.md).
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using O3Storage.Node.Hosting;

namespace O3Storage.Node.Auth;

internal static class ClusterAuthority
{
    public const string KeyFile = "ca-key.pem";
    public const string TokenFile = "join-token";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly DateTimeOffset s_notBefore = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset s_notAfter = new(9999, 12, 31, 23, 59, 59, TimeSpan.Zero);

    /// <summary>A new cluster CA in <paramref name="directory"/>, and this node's certificate from it.</summary>
    public static void Create(string directory, IPAddress ip)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=o3storage cluster CA {Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}, O=O3StorageOS", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        using X509Certificate2 authority = request.CreateSelfSigned(s_notBefore, s_notAfter);
        Adopt(directory, authority.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), ip);
    }

    /// <summary>Keeps the cluster CA given (PEM) in <paramref name="directory"/> and issues this node's certificate with it.</summary>
    /// <exception cref="InvalidDataException">The PEM is not a CA certificate with its key.</exception>
    public static void Adopt(string directory, string authorityPem, string keyPem, IPAddress ip)
    {
        try
        {
            using X509Certificate2 check = X509Certificate2.CreateFromPem(authorityPem, keyPem);
            if (check.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
            {
                throw new InvalidDataException("the certificate given is not a CA's");
            }
        }
        catch (CryptographicException e)
        {
            throw new InvalidDataException($"the CA given does not load ({e.Message.TrimEnd('.')})");
        }

        AtomicFile.Write(Path.Combine(directory, KeyFile), Encoding.ASCII.GetBytes(keyPem), OwnerOnly);
        AtomicFile.Write(Path.Combine(directory, NodeCertificates.AuthorityFile), Encoding.ASCII.GetBytes(authorityPem));
        Issue(directory, ip);
    }

    /// <summary>
    /// Issues this node's certificate when <paramref name="directory"/> holds the CA key but no certificate
    /// for <paramref name="ip"/> (the node's address changed); nothing otherwise.
    /// </summary>
    public static void IssueIfMissing(string directory, IPAddress ip)
    {
        if (File.Exists(Path.Combine(directory, KeyFile)) && !File.Exists(CertificatePath(directory, ip)))
        {
            Issue(directory, ip);
        }
    }

    /// <summary>The CA certificate and key (PEM) of <paramref name="directory"/>; null when it holds none (the guide's certificates, or a cluster from before cluster CAs).</summary>
    public static (string Certificate, string Key)? Read(string directory)
    {
        string keyPath = Path.Combine(directory, KeyFile);
        string certificatePath = Path.Combine(directory, NodeCertificates.AuthorityFile);
        return File.Exists(keyPath) && File.Exists(certificatePath) ? (File.ReadAllText(certificatePath), File.ReadAllText(keyPath)) : null;
    }

    public static string? ReadToken(string directory)
    {
        string path = Path.Combine(directory, TokenFile);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    public static void WriteToken(string directory, string token) =>
        AtomicFile.Write(Path.Combine(directory, TokenFile), Encoding.UTF8.GetBytes(token + "\n"), OwnerOnly);

    private static string CertificatePath(string directory, IPAddress ip) => Path.Combine(directory, $"node-{ip}{NodeCertificates.CertificateSuffix}");

    private static void Issue(string directory, IPAddress ip)
    {
        using X509Certificate2 authority = X509Certificate2.CreateFromPemFile(Path.Combine(directory, NodeCertificates.AuthorityFile), Path.Combine(directory, KeyFile));
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={ip}, O=O3StorageOS", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(ip);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number (RFC 5280)
        using X509Certificate2 certificate = request.Create(authority, s_notBefore, s_notAfter, serial);
        string certificatePath = CertificatePath(directory, ip);
        AtomicFile.Write(certificatePath[..^NodeCertificates.CertificateSuffix.Length] + NodeCertificates.KeySuffix, Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem()), OwnerOnly);
        AtomicFile.Write(certificatePath, Encoding.ASCII.GetBytes(certificate.ExportCertificatePem()));
    }
}
