using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using O3Storage.Node.Auth;

namespace O3Storage.Node.Tests.Auth;

/// <summary>The guide's certificate directory, written as its openssl lines leave it (PEM; CN = the node's IP; RSA keys in PKCS#8).</summary>
public sealed class NodeCertificatesTests : IDisposable
{
    private static readonly IPAddress s_ip = IPAddress.Parse("192.0.2.2");
    private readonly string _directory = Directory.CreateTempSubdirectory("o3-certs-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (X509Certificate2 Certificate, RSA Key) Authority(string name)
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        return (request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(365)), key);
    }

    private void WriteNode(string file, X509Certificate2 authority, string commonName, RSA? key = null)
    {
        key ??= RSA.Create(2048);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using X509Certificate2 certificate = request.Create(authority, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(300), RandomNumberGenerator.GetBytes(8));
        File.WriteAllText(Path.Combine(_directory, $"{file}-cert.pem"), certificate.ExportCertificatePem());
        string keyPath = Path.Combine(_directory, $"{file}-key.pem");
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private void WriteAuthority(X509Certificate2 authority) => File.WriteAllText(Path.Combine(_directory, "ca-cert.pem"), authority.ExportCertificatePem());

    private string LoadError() => Assert.Throws<InvalidDataException>(() => NodeCertificates.Load(_directory, s_ip, TimeProvider.System)).Message;

    [Fact]
    public void TheGuidesLayout_IsFound_ByTheCertificateNamingThisNodesIp()
    {
        (X509Certificate2 authority, RSA _) = Authority("o3 CA");
        WriteAuthority(authority);
        WriteNode("node-1", authority, "192.0.2.1");
        WriteNode("node-2", authority, "192.0.2.2");

        using NodeCertificates certificates = NodeCertificates.Load(_directory, s_ip, TimeProvider.System)!;
        Assert.Equal(Path.Combine(_directory, "node-2-cert.pem"), certificates.CertificateFile);
        Assert.Equal(Path.Combine(_directory, "node-2-key.pem"), certificates.KeyFile);
        Assert.Equal("CN=192.0.2.2", certificates.Trust.Own.Subject);
        Assert.Equal("CN=o3 CA", certificates.Trust.Authority.Subject);
        Assert.Empty(certificates.Warnings);
    }

    [Fact]
    public void NoDirectory_OrNoPemFiles_MeansPeerTlsOff()
    {
        Assert.Null(NodeCertificates.Load(Path.Combine(_directory, "absent"), s_ip, TimeProvider.System));
        File.WriteAllText(Path.Combine(_directory, "README"), "put the certificates here");
        Assert.Null(NodeCertificates.Load(_directory, s_ip, TimeProvider.System));
    }

    [Fact]
    public void EachIncompleteOrMismatchedLayout_IsRefused_SayingWhichFileAndWhy()
    {
        (X509Certificate2 authority, RSA _) = Authority("o3 CA");
        (X509Certificate2 other, RSA _) = Authority("another CA");
        WriteNode("node-2", authority, "192.0.2.2");
        Assert.Contains("no ca-cert.pem (the cluster CA's certificate) beside node-2-cert.pem, node-2-key.pem", LoadError(), StringComparison.Ordinal);

        WriteAuthority(authority);
        File.Delete(Path.Combine(_directory, "node-2-cert.pem"));
        File.Delete(Path.Combine(_directory, "node-2-key.pem"));
        Assert.Contains("ca-cert.pem but no node certificate (*-cert.pem) for 192.0.2.2", LoadError(), StringComparison.Ordinal);

        WriteNode("node-1", authority, "192.0.2.1");
        Assert.Contains("no node certificate names this node's address 192.0.2.2 (node-1-cert.pem names 192.0.2.1); make one with CN=192.0.2.2", LoadError(), StringComparison.Ordinal);

        WriteNode("node-2", authority, "192.0.2.2");
        File.Delete(Path.Combine(_directory, "node-2-key.pem"));
        Assert.Contains("node-2-cert.pem: its private key node-2-key.pem is missing", LoadError(), StringComparison.Ordinal);

        File.Copy(Path.Combine(_directory, "node-1-key.pem"), Path.Combine(_directory, "node-2-key.pem"));
        Assert.Contains("node-2-key.pem: not the private key of node-2-cert.pem", LoadError(), StringComparison.Ordinal);

        WriteNode("node-2", other, "192.0.2.2");
        Assert.Contains("this node's own certificate is refused: its certificate (CN=192.0.2.2, issued by CN=another CA", LoadError(), StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(_directory, "ca-cert.pem"), "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
        Assert.Contains("ca-cert.pem: not a PEM certificate", LoadError(), StringComparison.Ordinal);
    }

    [Fact]
    public void AKeyOthersMayRead_IsAWarning()
    {
        (X509Certificate2 authority, RSA _) = Authority("o3 CA");
        WriteAuthority(authority);
        WriteNode("node-2", authority, "192.0.2.2");
        File.SetUnixFileMode(Path.Combine(_directory, "node-2-key.pem"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        using NodeCertificates certificates = NodeCertificates.Load(_directory, s_ip, TimeProvider.System)!;
        Assert.Equal($"{Path.Combine(_directory, "node-2-key.pem")} may be read by other users: chmod 600 it, as the guide does", Assert.Single(certificates.Warnings));
    }
}
