// Owns: finding this node's certificates in the guide's layout (/opt/o3storage/certs: ca-cert.pem,
// node-N-cert.pem and node-N-key.pem with CN = the node's IP, as the guide's openssl lines make them) and
// saying exactly what is wrong when they are incomplete or do not fit together. The checks of a peer's
// certificate are ClusterTrust's.
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using O3Storage.Cluster.Security;

namespace O3Storage.Node.Auth;

/// <summary>This node's certificates, loaded: the trust they make, the files, and anything worth a warning (a key others may read).</summary>
internal sealed record NodeCertificates(ClusterTrust Trust, string CertificateFile, string KeyFile, IReadOnlyList<string> Warnings) : IDisposable
{
    public const string AuthorityFile = "ca-cert.pem";
    public const string CertificateSuffix = "-cert.pem";
    public const string KeySuffix = "-key.pem";

    /// <summary>
    /// The certificates in <paramref name="directory"/> for the node at <paramref name="ip"/>: the CA's
    /// (<see cref="AuthorityFile"/>) and the one <c>*-cert.pem</c> naming <paramref name="ip"/>, with its
    /// <c>*-key.pem</c>. Null when the directory holds no <c>.pem</c> file at all (peer TLS is off).
    /// </summary>
    /// <exception cref="InvalidDataException">The directory holds some but not all of them, or they do not fit together; the message says which file and why.</exception>
    public static NodeCertificates? Load(string directory, IPAddress ip, TimeProvider time)
    {
        string[] pems = Directory.Exists(directory) ? Directory.GetFiles(directory, "*.pem") : [];
        if (pems.Length == 0)
        {
            return null;
        }

        string authorityPath = Path.Combine(directory, AuthorityFile);
        if (!File.Exists(authorityPath))
        {
            throw new InvalidDataException($"{directory}: no {AuthorityFile} (the cluster CA's certificate) beside {string.Join(", ", pems.Select(Path.GetFileName).Order(StringComparer.Ordinal))}");
        }

        X509Certificate2 authority = ReadCertificate(authorityPath);
        string[] candidates = [.. pems.Where(p => p.EndsWith(CertificateSuffix, StringComparison.Ordinal) && Path.GetFileName(p) != AuthorityFile).Order(StringComparer.Ordinal)];
        var names = new List<string>();
        string? chosen = null;
        foreach (string candidate in candidates)
        {
            using X509Certificate2 certificate = ReadCertificate(candidate);
            IReadOnlyList<IPAddress> named = ClusterTrust.AddressesOf(certificate);
            names.Add($"{Path.GetFileName(candidate)} names {(named.Count == 0 ? "no IP address" : string.Join(", ", named))}");
            if (named.Contains(ip))
            {
                chosen = candidate;
                break;
            }
        }

        if (chosen is null)
        {
            authority.Dispose();
            throw new InvalidDataException(candidates.Length == 0
                ? $"{directory}: {AuthorityFile} but no node certificate (*{CertificateSuffix}) for {ip}"
                : $"{directory}: no node certificate names this node's address {ip} ({string.Join("; ", names)}); make one with CN={ip}");
        }

        string keyPath = chosen[..^CertificateSuffix.Length] + KeySuffix;
        if (!File.Exists(keyPath))
        {
            authority.Dispose();
            throw new InvalidDataException($"{chosen}: its private key {Path.GetFileName(keyPath)} is missing");
        }

        X509Certificate2 own;
        try
        {
            own = X509Certificate2.CreateFromPemFile(chosen, keyPath);
        }
        catch (CryptographicException e)
        {
            authority.Dispose();
            throw new InvalidDataException($"{keyPath}: not the private key of {Path.GetFileName(chosen)}, or not a PEM private key ({e.Message.TrimEnd('.')})");
        }

        try
        {
            var warnings = new List<string>();
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(keyPath) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            {
                warnings.Add($"{keyPath} may be read by other users: chmod 600 it, as the guide does");
            }

            return new NodeCertificates(new ClusterTrust(authority, own, time), chosen, keyPath, warnings);
        }
        catch (ArgumentException e)
        {
            authority.Dispose();
            own.Dispose();
            throw new InvalidDataException($"{chosen}: {e.Message}");
        }
    }

    public void Dispose() => Trust.Dispose();

    private static X509Certificate2 ReadCertificate(string path)
    {
        try
        {
            return X509Certificate2.CreateFromPem(File.ReadAllText(path));
        }
        catch (CryptographicException e)
        {
            throw new InvalidDataException($"{path}: not a PEM certificate ({e.Message.TrimEnd('.')})");
        }
    }
}
