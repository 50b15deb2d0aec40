using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using O3Storage.Cluster.Security;
using O3Storage.Node.Interop;

namespace O3Storage.Node.Transport;

/// <summary>
/// What one mutual-TLS handshake costs this board: the CPU time both ends spend on it, over loopback,
/// with the node's own certificate and the cluster's chain check on both sides, as between two Raft
/// peers (<see cref="Cluster.Raft.RaftTimings"/>). CPU time, not the time on the clock: a node started
/// while its board is busy (a restart under load) would otherwise measure the wait for a core and keep
/// the slow timeouts of an emulated board for as long as it runs. Each end runs on a thread of its own,
/// so each thread's clock counts exactly that end's work.
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

    /// <summary>Runs <paramref name="work"/> on a thread of its own; the result is the CPU time that thread spent on it.</summary>
    internal static Task<TimeSpan> CpuTimeOnOwnThread(Action work)
    {
        var done = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                TimeSpan started = Libc.ThreadCpuTime();
                work();
                done.SetResult(Libc.ThreadCpuTime() - started);
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "o3-tls-probe",
        };
        thread.Start();
        return done.Task;
    }

    private static async Task<TimeSpan> HandshakeAsync(TcpListener listener, ClusterTrust trust, CancellationToken token)
    {
        // The chain is checked as a peer's would be (the result does not matter: it is this node's own).
        RemoteCertificateValidationCallback check = (_, certificate, _, _) =>
        {
            _ = trust.Refusal(certificate, expected: null);
            return true;
        };
        using var client = new TcpClient { NoDelay = true };
        Task<TcpClient> accepting = listener.AcceptTcpClientAsync(token).AsTask();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint, token).ConfigureAwait(false);
        using TcpClient server = await accepting.ConfigureAwait(false);
        using var serverStream = new SslStream(server.GetStream());
        using var clientStream = new SslStream(client.GetStream());
        // The handshakes below block their threads; a stop closes the sockets under them.
        using CancellationTokenRegistration stop = token.Register(() =>
        {
            client.Dispose();
            server.Dispose();
        });
        Task<TimeSpan> serving = CpuTimeOnOwnThread(() => serverStream.AuthenticateAsServer(
            new SslServerAuthenticationOptions
            {
                ServerCertificateContext = trust.OwnContext,
                ClientCertificateRequired = true,
                EnabledSslProtocols = ClusterTrust.Protocols,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = check,
            }));
        Task<TimeSpan> calling = CpuTimeOnOwnThread(() => clientStream.AuthenticateAsClient(
            new SslClientAuthenticationOptions
            {
                TargetHost = "o3storage-handshake-probe",
                ClientCertificateContext = trust.OwnContext,
                EnabledSslProtocols = ClusterTrust.Protocols,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = check,
            }));
        try
        {
            if (await Task.WhenAny(serving, calling).ConfigureAwait(false) is { IsFaulted: true })
            {
                // One end gave up: the other would wait for it until the probe's deadline.
                client.Dispose();
                server.Dispose();
            }

            TimeSpan[] ends = await Task.WhenAll(serving, calling).ConfigureAwait(false);
            return ends[0] + ends[1];
        }
        catch (Exception) when (token.IsCancellationRequested)
        {
            throw new OperationCanceledException("the handshake probe was stopped", token);
        }
    }
}
