// Owns: node-to-node HTTP calls on the API port (ping, join, propose). Every call is bounded by a timeout.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using O3Storage.Cluster;

namespace O3Storage.Node.Api;

/// <param name="localAddress">This node's --ip: calls leave from it, so members recognize each other by source address.</param>
internal sealed class PeerClient(IPAddress? localAddress = null) : IDisposable
{
    public static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan JoinCallTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Marks a request a follower passed on to the leader, so it is never passed on twice.</summary>
    public const string ForwardedHeader = "X-O3-Forwarded";

    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        ConnectTimeout = TimeSpan.FromMilliseconds(500),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        UseProxy = false,
        AllowAutoRedirect = false,
        ConnectCallback = localAddress is null ? null : async (context, token) =>
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
        },
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public async Task<PingResponse> PingAsync(string nodeId, CancellationToken token)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(PingTimeout);
        return await _http.GetFromJsonAsync($"http://{nodeId}/internal/ping", InternalJsonContext.Default.PingResponse, timeout.Token).ConfigureAwait(false)
            ?? throw new HttpRequestException($"{nodeId} answered ping with null");
    }

    /// <summary>Sends a join request; returns the leader's answer or the error text the peer gave.</summary>
    public async Task<(JoinResponse? Response, HttpStatusCode Status, string? Error)> JoinAsync(string nodeId, JoinRequest request, CancellationToken token, bool forwarded = false)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(JoinCallTimeout);
        using var message = new HttpRequestMessage(HttpMethod.Post, $"http://{nodeId}/internal/join")
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
        using var message = new HttpRequestMessage(HttpMethod.Post, $"http://{nodeId}/internal/propose") { Content = new ByteArrayContent(command) };
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

    /// <summary>Pings <paramref name="peers"/> in rounds until one answers or <paramref name="timeout"/> passes.</summary>
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
                    lastErrors[peer] = Describe(e);
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
                throw new Hosting.StartupException($"no peer answered within {timeout.TotalSeconds:0.#} s ({detail}); check --peers and that those nodes run");
            }
        }
    }

    public static string Describe(Exception e) => e switch
    {
        HttpRequestException { InnerException: System.Net.Sockets.SocketException socket } => socket.Message,
        HttpRequestException http => http.Message,
        OperationCanceledException => "timed out",
        _ => e.Message,
    };

    public void Dispose() => _http.Dispose();
}
