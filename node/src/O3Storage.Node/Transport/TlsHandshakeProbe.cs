using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using O3Storage.Cluster.Security;

namespace O3Storage.Node.Transport;

/// <summary>
/// Times one mutual-TLS handshake between two ends on this board, over loopback, with the node's own
/// certificate and the cluster's chain check on both sides, as between two Raft peers: what a
/// connection to a peer costs here before any byte of Raft moves (<see cref="Cluster.Raft.RaftTimings"/>).
/// </summary>
internal static class TlsHandshakeProbe
{
    /// <summary>The second of two handshakes (the first also pays for loading the TLS library).</summary>
    public static async Task<TimeSpan> MeasureAsync(ClusterTrust trust, CancellationToken token)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            TimeSpan took = TimeSpan.Zero;
            for (int i = 0; i < 2; i++)
            {
                took = await HandshakeAsync(listener, trust, timeout.Token).ConfigureAwait(false);
            }

            return took;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static async Task<TimeSpan> HandshakeAsync(TcpListener listener, ClusterTrust trust, CancellationToken token)
    {
        // The chain is checked as a peer's would be (the result does not matter: it is this node's own).
        RemoteCertificateValidationCallback check = (_, certificate, _, _) =>
        {
            _ = trust.Refusal(certificate, expected: null);
            return true;
        };
        long started = Stopwatch.GetTimestamp();
        using var client = new TcpClient { NoDelay = true };
        Task<TcpClient> accepting = listener.AcceptTcpClientAsync(token).AsTask();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint, token).ConfigureAwait(false);
        using TcpClient server = await accepting.ConfigureAwait(false);
        var serverStream = new SslStream(server.GetStream());
        var clientStream = new SslStream(client.GetStream());
        await using (serverStream.ConfigureAwait(false))
        await using (clientStream.ConfigureAwait(false))
        {
            Task serving = serverStream.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = trust.OwnContext,
                    ClientCertificateRequired = true,
                    EnabledSslProtocols = ClusterTrust.Protocols,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = check,
                },
                token);
            await clientStream.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = "o3storage-handshake-probe",
                    ClientCertificateContext = trust.OwnContext,
                    EnabledSslProtocols = ClusterTrust.Protocols,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = check,
                },
                token).ConfigureAwait(false);
            await serving.ConfigureAwait(false);
            return Stopwatch.GetElapsedTime(started);
        }
    }
}
