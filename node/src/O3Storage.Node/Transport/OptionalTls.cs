// Owns: TLS and plain HTTP on the one API port. The guide's firewall opens only 8080 and 8090, and its
// plain `curl http://...:8080/health` must keep working, so a connection whose first byte is a TLS
// handshake record (0x16) is taken through TLS with the cluster's certificate, and any other is plain.
// Over TLS a client may present a certificate (members do, for internal calls): one that is not the
// cluster's, or does not name the address it connects from, is refused in the handshake.
using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using O3Storage.Cluster.Security;

namespace O3Storage.Node.Transport;

/// <param name="refused">Told why a client's certificate was refused (the client's address, the reason).</param>
internal sealed class OptionalTls(ClusterTrust trust, Action<EndPoint?, string> refused)
{
    /// <summary>A first byte or a handshake that takes longer is dropped: a stranger cannot hold connections open doing nothing.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    private const byte HandshakeRecord = 0x16;

    public ConnectionDelegate Wrap(ConnectionDelegate next) => context => OnConnectionAsync(context, next);

    private async Task OnConnectionAsync(ConnectionContext context, ConnectionDelegate next)
    {
        PipeReader input = context.Transport.Input;
        ReadResult first;
        using (var firstByte = CancellationTokenSource.CreateLinkedTokenSource(context.ConnectionClosed))
        {
            // Kestrel's own timeouts start after this middleware: a connection that sends nothing is dropped here.
            firstByte.CancelAfter(HandshakeTimeout);
            try
            {
                first = await input.ReadAsync(firstByte.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        bool isTls = !first.Buffer.IsEmpty && first.Buffer.Slice(0, 1).ToArray()[0] == HandshakeRecord;
        input.AdvanceTo(first.Buffer.Start); // nothing consumed: the first byte stays for whoever reads next
        if (!isTls)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        IPAddress? client = (context.RemoteEndPoint as IPEndPoint)?.Address;
        var ssl = new SslStream(new DuplexPipeStream(context.Transport), leaveInnerStreamOpen: true);
        await using (ssl.ConfigureAwait(false))
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.ConnectionClosed);
            deadline.CancelAfter(HandshakeTimeout);
            try
            {
                await ssl.AuthenticateAsServerAsync(
                    new SslServerAuthenticationOptions
                    {
                        ServerCertificateContext = trust.OwnContext,
                        // Asked for, not required: S3 clients over HTTPS have none; internal calls check for one.
                        ClientCertificateRequired = true,
                        EnabledSslProtocols = ClusterTrust.Protocols,
                        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                        RemoteCertificateValidationCallback = (_, certificate, _, _) => Accept(certificate, client, context.RemoteEndPoint),
                    },
                    deadline.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException)
            {
                return; // closes the connection: nothing was read as a request
            }

            IDuplexPipe plain = context.Transport;
            context.Transport = new DuplexPipe(PipeReader.Create(ssl, new StreamPipeReaderOptions(leaveOpen: true)), PipeWriter.Create(ssl, new StreamPipeWriterOptions(leaveOpen: true)));
            context.Features.Set<ITlsConnectionFeature>(new TlsConnection(ssl.RemoteCertificate is { } presented ? new X509Certificate2(presented) : null));
            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                context.Transport = plain;
            }
        }
    }

    private bool Accept(X509Certificate? certificate, IPAddress? client, EndPoint? from)
    {
        if (certificate is null)
        {
            return true; // an HTTPS client without a certificate: served as any plain client is
        }

        string? refusal = client is null ? "its address is unknown" : trust.Refusal(certificate, client);
        if (refusal is not null)
        {
            refused(from, refusal);
        }

        return refusal is null;
    }

    private sealed class TlsConnection(X509Certificate2? clientCertificate) : ITlsConnectionFeature
    {
        public X509Certificate2? ClientCertificate { get; set; } = clientCertificate;

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult(ClientCertificate);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>A connection's pipes as the stream SslStream reads and writes.</summary>
    private sealed class DuplexPipeStream(IDuplexPipe pipe) : Stream
    {
        private readonly Stream _input = pipe.Input.AsStream(leaveOpen: true);
        private readonly Stream _output = pipe.Output.AsStream(leaveOpen: true);

        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _input.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _input.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => _output.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _output.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _output.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Flush() => _output.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
