// Owns: node-to-node HTTP calls on the API port (ping, join, propose, blobs, forwarded admin calls), over
// TLS with this node's certificate when the cluster has certificates. Every call is bounded by a timeout.
using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Text.Json;
using O3Storage.Cluster;
using O3Storage.Cluster.Security;

namespace O3Storage.Node.Transport;

/// <param name="localAddress">This node's --ip: calls leave from it, so members recognize each other by source address.</param>
/// <param name="trust">The cluster's certificates: then every call goes over TLS presenting this node's, and the node called must present one naming its address.</param>
/// <param name="refused">Told why a node called was refused (the address called, the reason).</param>
internal sealed class PeerClient(IPAddress? localAddress = null, ClusterTrust? trust = null, Action<string, string>? refused = null, TimeSpan? connectTimeout = null) : IDisposable
{
    /// <summary>A connection to a peer, TLS handshake included, unless the board's handshakes are slower (<see cref="Cluster.Raft.RaftTimings"/>).</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromMilliseconds(500);

    private readonly string _scheme = trust is null ? "http" : "https";

    /// <summary>The certificates calls are made with (null: plain HTTP).</summary>
    public ClusterTrust? Trust => trust;

    public static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan JoinCallTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Marks a request a follower passed on to the leader, so it is never passed on twice.</summary>
    public const string ForwardedHeader = "X-O3-Forwarded";

    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        ConnectTimeout = connectTimeout ?? DefaultConnectTimeout,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        UseProxy = false,
        AllowAutoRedirect = false,
        SslOptions = trust is null ? new SslClientAuthenticationOptions() : new SslClientAuthenticationOptions
        {
            ClientCertificateContext = trust.OwnContext,
            EnabledSslProtocols = ClusterTrust.Protocols,
            CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
            // The node called must present a certificate naming the address called (the TLS target host).
            RemoteCertificateValidationCallback = (sender, certificate, _, _) =>
            {
                string host = (sender switch
                {
                    SslStream ssl => ssl.TargetHostName,
                    HttpRequestMessage request => request.RequestUri?.Host,
                    _ => null,
                } ?? "").Trim('[', ']');
                string? refusal = IPAddress.TryParse(host, out IPAddress? called) ? trust!.Refusal(certificate, called) : "the address called is unknown";
                if (refusal is not null)
                {
                    refused?.Invoke(host, refusal);
                }

                return refusal is null;
            },
        },
        ConnectCallback = ConnectFrom(localAddress),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <param name="caller">This node's id and uuid, so that a member can tell it when the cluster removed it.</param>
    public async Task<PingResponse> PingAsync(string nodeId, CancellationToken token, (string NodeId, Guid Uuid)? caller = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(PingTimeout);
        string query = caller is { } self ? $"?from={Uri.EscapeDataString(self.NodeId)}&uuid={self.Uuid}" : string.Empty;
        return await _http.GetFromJsonAsync($"{_scheme}://{nodeId}/internal/ping{query}", InternalJsonContext.Default.PingResponse, timeout.Token).ConfigureAwait(false)
            ?? throw new HttpRequestException($"{nodeId} answered ping with null");
    }

    /// <summary>A member's GET /health body as it came (any status: a degraded member still reports), or null when it does not answer in <paramref name="timeout"/>.</summary>
    public async Task<string?> TryHealthJsonAsync(string nodeId, TimeSpan timeout, CancellationToken token)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
        deadline.CancelAfter(timeout);
        try
        {
            using HttpResponseMessage response = await _http.GetAsync($"{_scheme}://{nodeId}/health", deadline.Token).ConfigureAwait(false);
            return response.Content.Headers.ContentType?.MediaType == "application/json" ? await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false) : null;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException && !token.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Sends a join request; returns the leader's answer or the error text the peer gave.</summary>
    public async Task<(JoinResponse? Response, HttpStatusCode Status, string? Error)> JoinAsync(string nodeId, JoinRequest request, CancellationToken token, bool forwarded = false)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(JoinCallTimeout);
        using var message = new HttpRequestMessage(HttpMethod.Post, $"{_scheme}://{nodeId}/internal/join")
        {
            Content = JsonContent.Create(request, InternalJsonContext.Default.JoinRequest),
        };
        if (forwarded)
        {
            message.Headers.Add(ForwardedHeader, "1");
        }

        using HttpResponseMessage response = await _http.SendAsync(message, timeout.Token).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
        try
        {
            if (response.IsSuccessStatusCode)
            {
                return (JsonSerializer.Deserialize(body, InternalJsonContext.Default.JoinResponse), response.StatusCode, null);
            }

            ErrorResponse? error = JsonSerializer.Deserialize(body, InternalJsonContext.Default.ErrorResponse);
            return (null, response.StatusCode, error?.Error ?? body);
        }
        catch (JsonException)
        {
            return (null, response.StatusCode, $"{nodeId} answered {(int)response.StatusCode} with a body that is not JSON");
        }
    }

    /// <summary>Asks <paramref name="nodeId"/> (the leader, or a node that forwards once) to commit an encoded metadata command.</summary>
    /// <param name="bearer">The cluster's admin key when authentication is on: internal calls prove they come from a node holding the key file.</param>
    public async Task<(HttpStatusCode Status, string? Error)> ProposeAsync(string nodeId, byte[] command, string? bearer, CancellationToken token, bool forwarded = false)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(JoinCallTimeout);
        using var message = new HttpRequestMessage(HttpMethod.Post, $"{_scheme}://{nodeId}/internal/propose") { Content = new ByteArrayContent(command) };
        if (forwarded)
        {
            message.Headers.Add(ForwardedHeader, "1");
        }

        if (bearer is not null)
        {
            message.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }

        using HttpResponseMessage response = await _http.SendAsync(message, timeout.Token).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return (response.StatusCode, null);
        }

        string body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
        try
        {
            return (response.StatusCode, JsonSerializer.Deserialize(body, InternalJsonContext.Default.ErrorResponse)?.Error ?? body);
        }
        catch (JsonException)
        {
            return (response.StatusCode, $"{nodeId} answered {(int)response.StatusCode}");
        }
    }

    /// <summary>How long a forwarded admin call may take: a removal may hand leadership over first.</summary>
    public static readonly TimeSpan AdminCallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Passes an admin call on to <paramref name="nodeId"/> (the leader), marked forwarded: its status, body and Retry-After come back as they were.</summary>
    /// <param name="bearer">The cluster's admin key when authentication is on: the leader takes forwarded calls only from members holding it.</param>
    public async Task<(HttpStatusCode Status, byte[] Body, string? RetryAfter)> ForwardAdminAsync(string nodeId, HttpMethod method, string pathAndQuery, byte[] body, string? bearer, CancellationToken token)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(AdminCallTimeout);
        using var message = new HttpRequestMessage(method, $"{_scheme}://{nodeId}{pathAndQuery}");
        if (method != HttpMethod.Get)
        {
            message.Content = new ByteArrayContent(body);
            message.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        message.Headers.Add(ForwardedHeader, "1");
        if (bearer is not null)
        {
            message.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }

        using HttpResponseMessage response = await _http.SendAsync(message, timeout.Token).ConfigureAwait(false);
        byte[] answer = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
        return (response.StatusCode, answer, response.Headers.RetryAfter?.ToString());
    }

    /// <summary>The header that carries a blob's CRC-32C (decimal) with /internal/blobs transfers.</summary>
    public const string Crc32CHeader = "X-O3-Crc32C";

    /// <summary>Stores a blob on <paramref name="nodeId"/>; durable there when this returns.</summary>
    /// <exception cref="ReplicaException">The node did not store it (down, full, refused).</exception>
    public async Task PutBlobAsync(string nodeId, Storage.BlobId id, ReadOnlyMemory<byte> content, uint crc32C, string? bearer, CancellationToken token)
    {
        using HttpRequestMessage message = BlobRequest(HttpMethod.Put, nodeId, id, bearer);
        message.Content = new ReadOnlyMemoryContent(content);
        message.Content.Headers.ContentLength = content.Length;
        message.Headers.Add(Crc32CHeader, crc32C.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using CancellationTokenSource timeout = BlobTimeout(content.Length, token);
        using HttpResponseMessage response = await SendBlobCallAsync(nodeId, message, timeout.Token, token).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.NoContent)
        {
            throw new ReplicaException(nodeId, await DescribeFailureAsync(nodeId, response, token).ConfigureAwait(false)) { Full = response.StatusCode == HttpStatusCode.InsufficientStorage };
        }
    }

    /// <summary>Reads a whole blob from <paramref name="nodeId"/> into <paramref name="destination"/> (exactly its length).</summary>
    public async Task GetBlobAsync(string nodeId, Storage.BlobId id, Memory<byte> destination, string? bearer, CancellationToken token)
    {
        using HttpRequestMessage message = BlobRequest(HttpMethod.Get, nodeId, id, bearer);
        using CancellationTokenSource timeout = BlobTimeout(destination.Length, token);
        using HttpResponseMessage response = await SendBlobCallAsync(nodeId, message, timeout.Token, token, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new ReplicaException(nodeId, await DescribeFailureAsync(nodeId, response, token).ConfigureAwait(false));
        }

        if (response.Content.Headers.ContentLength != destination.Length)
        {
            throw new ReplicaException(nodeId, $"blob {id} holds {response.Content.Headers.ContentLength} bytes there, metadata says {destination.Length}");
        }

        try
        {
            await using Stream body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            await body.ReadExactlyAsync(destination, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException && !token.IsCancellationRequested)
        {
            throw new ReplicaException(nodeId, $"blob {id} came short: {Describe(e)}", e);
        }
    }

    public async Task DeleteBlobAsync(string nodeId, Storage.BlobId id, string? bearer, CancellationToken token)
    {
        using HttpRequestMessage message = BlobRequest(HttpMethod.Delete, nodeId, id, bearer);
        using CancellationTokenSource timeout = BlobTimeout(0, token);
        using HttpResponseMessage response = await SendBlobCallAsync(nodeId, message, timeout.Token, token).ConfigureAwait(false);
        if (response.StatusCode is not (HttpStatusCode.NoContent or HttpStatusCode.NotFound))
        {
            throw new ReplicaException(nodeId, await DescribeFailureAsync(nodeId, response, token).ConfigureAwait(false));
        }
    }

    /// <summary>A snapshot transfer that receives nothing for this long has stalled: the peer is gone or stuck.</summary>
    public static readonly TimeSpan SnapshotStallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gives <paramref name="read"/> <paramref name="nodeId"/>'s newest metadata snapshot, if at
    /// <paramref name="minIndex"/> or later, as it arrives; no deadline for the whole transfer, only for
    /// a stall (<see cref="SnapshotStallTimeout"/>: the connection is dropped, and a read waiting on it
    /// fails). How many bytes <paramref name="read"/> took.
    /// </summary>
    /// <param name="incarnation">The cluster's incarnation, as the reference named it: what admits a caller without a certificate or key.</param>
    /// <exception cref="ReplicaException">The peer could not be reached, refused, had none that new, or the transfer broke off or came short.</exception>
    public async Task<long> ReadSnapshotAsync(string nodeId, long minIndex, Guid incarnation, string? bearer, Func<Stream, CancellationToken, Task> read, CancellationToken token)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, $"{_scheme}://{nodeId}/internal/raft/snapshot?min={minIndex}");
        message.Headers.Add(Api.InternalAuth.IncarnationHeader, incarnation.ToString());
        if (bearer is not null)
        {
            message.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }

        using var stall = CancellationTokenSource.CreateLinkedTokenSource(token);
        stall.CancelAfter(SnapshotStallTimeout);
        using HttpResponseMessage response = await SendBlobCallAsync(nodeId, message, stall.Token, token, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new ReplicaException(nodeId, await DescribeFailureAsync(nodeId, response, token).ConfigureAwait(false));
        }

        long expected = response.Content.Headers.ContentLength ?? -1;
        var watched = new Cluster.Raft.ObservedReadStream(await response.Content.ReadAsStreamAsync(stall.Token).ConfigureAwait(false), _ => stall.CancelAfter(SnapshotStallTimeout), leaveOpen: false);
        await using (watched.ConfigureAwait(false))
        {
            // A stall (or the node stopping) drops the connection: a read blocked on it then fails.
            using CancellationTokenRegistration dropping = stall.Token.Register(() => response.Dispose());
            try
            {
                await read(watched, stall.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or HttpRequestException or ObjectDisposedException or OperationCanceledException && !token.IsCancellationRequested)
            {
                throw new ReplicaException(nodeId, $"the snapshot transfer broke off after {watched.Observed} bytes{(stall.IsCancellationRequested ? $" (nothing arrived for {SnapshotStallTimeout.TotalSeconds:0} s)" : "")}: {Describe(e)}", e);
            }
        }

        return expected >= 0 && watched.Observed != expected
            ? throw new ReplicaException(nodeId, $"the snapshot came short: {watched.Observed} of {expected} bytes")
            : watched.Observed;
    }

    private HttpRequestMessage BlobRequest(HttpMethod method, string nodeId, Storage.BlobId id, string? bearer)
    {
        var message = new HttpRequestMessage(method, $"{_scheme}://{nodeId}/internal/blobs/{id}");
        if (bearer is not null)
        {
            message.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }

        return message;
    }

    /// <summary>Sends a blob call bounded by a timeout that grows with its size (10 s plus 1 s per MiB): a dead peer costs seconds, a slow link still works.</summary>
    private static CancellationTokenSource BlobTimeout(long bytes, CancellationToken token)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(TimeSpan.FromSeconds(10 + (bytes >> 20)));
        return timeout;
    }

    private async Task<HttpResponseMessage> SendBlobCallAsync(string nodeId, HttpRequestMessage message, CancellationToken timeout, CancellationToken token, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        try
        {
            return await _http.SendAsync(message, completion, timeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !token.IsCancellationRequested)
        {
            throw new ReplicaException(nodeId, $"unreachable: {Describe(e)}", e);
        }
    }

    private static async Task<string> DescribeFailureAsync(string nodeId, HttpResponseMessage response, CancellationToken token)
    {
        string body = await response.Content.ReadAsStringAsync(token).ConfigureAwait(false);
        try
        {
            return $"answered {(int)response.StatusCode}: {JsonSerializer.Deserialize(body, InternalJsonContext.Default.ErrorResponse)?.Error ?? body}";
        }
        catch (JsonException)
        {
            return $"{nodeId} answered {(int)response.StatusCode}";
        }
    }

    /// <summary>Pings <paramref name="peers"/> in rounds until one answers or <paramref name="timeout"/> passes.</summary>
    /// <exception cref="PeersUnreachableException">None answered in time; the message names each peer's last error.</exception>
    /// <param name="deadline">Cancelled when <paramref name="timeout"/> has passed (shared with the rest of the join).</param>
    /// <param name="token">Cancelled when the node is asked to stop.</param>
    public async Task<(NodeAddress Peer, PingResponse Answer)> FindReachablePeerAsync(IReadOnlyList<NodeAddress> peers, TimeSpan timeout, CancellationToken deadline, CancellationToken token)
    {
        var lastErrors = new Dictionary<NodeAddress, string>();
        while (true)
        {
            foreach (NodeAddress peer in peers)
            {
                try
                {
                    return (peer, await PingAsync(peer.ToString(), deadline).ConfigureAwait(false));
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException)
                {
                    // A ping the deadline cut short says less than the answer an earlier round got
                    // ("Connection refused"): the user is told the more telling one.
                    if (!(e is OperationCanceledException && deadline.IsCancellationRequested && lastErrors.ContainsKey(peer)))
                    {
                        lastErrors[peer] = Describe(e);
                    }

                    if (deadline.IsCancellationRequested)
                    {
                        break;
                    }
                }
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), deadline).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                string detail = string.Join("; ", peers.Select(p => $"{p}: {lastErrors.GetValueOrDefault(p, "no answer")}"));
                throw new PeersUnreachableException($"no peer answered within {timeout.TotalSeconds:0.#} s ({detail}); check --peers and that those nodes run");
            }
        }
    }

    /// <summary>Connections that leave from <paramref name="localAddress"/> (null: the system's choice), without Nagle's delay.</summary>
    internal static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? ConnectFrom(IPAddress? localAddress) =>
        localAddress is null ? null : async (context, token) =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(localAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? localAddress : localAddress.MapToIPv6(), 0));
                await socket.ConnectAsync(context.DnsEndPoint, token).ConfigureAwait(false);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };

    public static string Describe(Exception e) => e switch
    {
        HttpRequestException { InnerException: System.Net.Sockets.SocketException socket } => socket.Message,
        HttpRequestException { InnerException: System.Security.Authentication.AuthenticationException tls } => $"TLS refused: {tls.Message}",
        HttpRequestException { InnerException: IOException io } when e.Message.Contains("SSL", StringComparison.Ordinal) => $"TLS refused by the node called (its log says why): {io.Message}",
        HttpRequestException http => http.Message,
        OperationCanceledException => "timed out",
        _ => e.Message,
    };

    public void Dispose() => _http.Dispose();
}
