using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using DotNext.Net.Security;
using O3Storage.Cluster.Security;

namespace O3Storage.Cluster.Raft;

/// <summary>
/// Mutual TLS on the Raft port: both ends present a certificate of the cluster's CA (<see cref="ClusterTrust"/>),
/// and a node it dials must present one naming the address it dialled. A connection that fails either check
/// is closed during the handshake, before DotNext reads a message from it.
/// </summary>
/// <param name="refused">Told why a peer was refused, and whether it was one this node dialled (its endpoint) or one that connected (null).</param>
internal sealed class RaftSslOptions : SslOptions
{
    private readonly ClusterTrust _trust;
    private readonly Action<EndPoint?, string> _refused;

    public RaftSslOptions(ClusterTrust trust, Action<EndPoint?, string> refused)
    {
        _trust = trust;
        _refused = refused;
        ServerOptions = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = trust.OwnContext,
            ClientCertificateRequired = true,
            EnabledSslProtocols = ClusterTrust.Protocols,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, _, _) => Accept(certificate, dialled: null),
        };
    }

    public override SslClientAuthenticationOptions CreateClientOptions(EndPoint serverAddress)
    {
        IPAddress? address = (serverAddress as IPEndPoint)?.Address;
        return new SslClientAuthenticationOptions
        {
            TargetHost = address?.ToString() ?? serverAddress.ToString(),
            ClientCertificateContext = _trust.OwnContext,
            EnabledSslProtocols = ClusterTrust.Protocols,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, _, _) => Accept(certificate, serverAddress),
        };
    }

    private bool Accept(X509Certificate? certificate, EndPoint? dialled)
    {
        // Our own chain check replaces the platform's (which knows neither the cluster's CA nor IP-only names).
        string? refusal = _trust.Refusal(certificate, (dialled as IPEndPoint)?.Address);
        if (refusal is not null)
        {
            _refused(dialled, refusal);
        }

        return refusal is null;
    }
}
