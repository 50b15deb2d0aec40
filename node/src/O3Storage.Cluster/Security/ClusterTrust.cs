// Owns: whether a certificate a peer presents is one of this cluster's (issued by its CA, valid now, the
// CA itself never, naming the address the peer was reached at), and this node's own certificate for
// presenting. Pure apart from the clock it is given; no files and no sockets (NodeCertificates loads them).
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace O3Storage.Cluster.Security;

/// <summary>A cluster's certificate authority and this node's certificate (with its private key) issued by it.</summary>
public sealed class ClusterTrust : IDisposable
{
    private readonly TimeProvider _time;

    /// <exception cref="ArgumentException"><paramref name="own"/> has no private key, or <paramref name="authority"/> did not issue it (the reason says which).</exception>
    public ClusterTrust(X509Certificate2 authority, X509Certificate2 own, TimeProvider time)
    {
        if (!own.HasPrivateKey)
        {
            throw new ArgumentException($"the node certificate ({Describe(own)}) comes without its private key", nameof(own));
        }

        Authority = authority;
        Own = own;
        _time = time;
        OwnContext = SslStreamCertificateContext.Create(own, additionalCertificates: null, offline: true);
        if (Refusal(own, expected: null) is { } refused)
        {
            throw new ArgumentException($"this node's own certificate is refused: {refused}", nameof(own));
        }
    }

    /// <summary>The cluster's CA: the only issuer whose certificates peers accept.</summary>
    public X509Certificate2 Authority { get; }

    /// <summary>This node's certificate, with its private key: what it presents to peers.</summary>
    public X509Certificate2 Own { get; }

    /// <summary><see cref="Own"/> as every TLS end of this node presents it (Raft, the API port, calls to peers), made once.</summary>
    public SslStreamCertificateContext OwnContext { get; }

    /// <summary>The TLS versions nodes speak, on every path.</summary>
    public const SslProtocols Protocols = SslProtocols.Tls13 | SslProtocols.Tls12;

    /// <summary>
    /// Why <paramref name="presented"/> is not a certificate of this cluster's for a peer reached at
    /// <paramref name="expected"/> (null: at an address not known, as for a connection a peer made), or
    /// null when it is: issued by <see cref="Authority"/> directly (peers present no intermediates),
    /// valid now, not the CA itself, and naming <paramref name="expected"/> in its subject alternative
    /// names or its common name (the guide's certificates have only <c>CN=IP</c>).
    /// </summary>
    public string? Refusal(X509Certificate? presented, IPAddress? expected)
    {
        if (presented is null)
        {
            return "it presented no certificate";
        }

        using var certificate = new X509Certificate2(presented);
        if (certificate.RawDataMemory.Span.SequenceEqual(Authority.RawDataMemory.Span))
        {
            return "it presented the CA's own certificate, not a node certificate";
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        bool built = chain.Build(certificate);
        try
        {
            if (!built)
            {
                X509ChainStatusFlags flags = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, s) => all | s.Status);
                if ((flags & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain | X509ChainStatusFlags.NotSignatureValid)) != 0)
                {
                    return NotOurs(certificate);
                }

                if ((flags & X509ChainStatusFlags.NotTimeValid) != 0)
                {
                    return $"its certificate ({Describe(certificate)}) is not valid now: valid from {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} to {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC";
                }

                return $"its certificate ({Describe(certificate)}) does not verify: {string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct())}";
            }

            if (!chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(Authority.RawDataMemory.Span))
            {
                return NotOurs(certificate);
            }
        }
        finally
        {
            foreach (X509ChainElement element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }

        if (expected is not null)
        {
            IPAddress wanted = expected.IsIPv4MappedToIPv6 ? expected.MapToIPv4() : expected;
            IReadOnlyList<IPAddress> named = AddressesOf(certificate);
            if (!named.Contains(wanted))
            {
                return $"its certificate ({Describe(certificate)}) names {(named.Count == 0 ? "no IP address" : string.Join(", ", named))}, not {wanted}, the address it was reached at";
            }
        }

        return null;
    }

    /// <summary>Why a certificate that does not chain to <see cref="Authority"/> is refused; two CAs made with openssl's default answers share a name, so that case is said apart.</summary>
    private string NotOurs(X509Certificate2 certificate) => certificate.Issuer == Authority.Subject
        ? $"its certificate ({Describe(certificate)}) is signed by a different CA with the same name as this cluster's CA ({Authority.Subject})"
        : $"its certificate ({Describe(certificate)}) is not issued by this cluster's CA ({Authority.Subject})";

    /// <summary>The IP addresses a certificate names: its subject alternative names, and its common name when that is an address.</summary>
    public static IReadOnlyList<IPAddress> AddressesOf(X509Certificate2 certificate)
    {
        var addresses = new List<IPAddress>();
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension names)
            {
                addresses.AddRange(names.EnumerateIPAddresses());
            }
        }

        if (IPAddress.TryParse(certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false), out IPAddress? common) && !addresses.Contains(common))
        {
            addresses.Add(common);
        }

        return addresses;
    }

    /// <summary>A certificate in a log line: its subject, issuer and expiry.</summary>
    public static string Describe(X509Certificate2 certificate) =>
        $"{certificate.Subject}, issued by {certificate.Issuer}, expires {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}";

    public void Dispose()
    {
        Authority.Dispose();
        Own.Dispose();
    }
}
