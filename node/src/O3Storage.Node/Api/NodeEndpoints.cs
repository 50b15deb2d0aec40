// Owns: the HTTP surface of the node that exists so far: /health and the internal node-to-node calls.
// Handlers are plain RequestDelegates over source-generated JSON: no reflection, AOT-clean.
using System.Net;
using System.Text.Json;
using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using O3Storage.Cluster;
using O3Storage.Cluster.Health;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;
using O3Storage.Node.Consensus;
using O3Storage.Node.Diagnostics;
using O3Storage.Node.Hosting;
using O3Storage.Node.Transport;

namespace O3Storage.Node.Api;

internal sealed class NodeEndpoints(NodeContext node, PeerClient peers, MetadataProposer proposer, TimeProvider time, ILogger logger)
{
    private const int JoinBodyBytesMax = 4096;
    /// <summary>A forwarded proposal: a batch (at most 512 KiB) or one large command (a multipart completion of thousands of parts).</summary>
    private const int ProposeBodyBytesMax = 16 * 1024 * 1024;

    // Relaxed escaping keeps "+" in versions and ":" in addresses readable for humans using curl.
    public static HealthJsonContext HealthJson { get; } = new(new System.Text.Json.JsonSerializerOptions(HealthJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/health", (RequestDelegate)HealthAsync);
        routes.MapGet("/metrics", (RequestDelegate)MetricsAsync);
        routes.MapGet("/internal/ping", (RequestDelegate)PingAsync);
        routes.MapPost("/internal/join", (RequestDelegate)JoinAsync);
        routes.MapPost("/internal/propose", (RequestDelegate)ProposeAsync);
        routes.MapGet("/internal/raft/snapshot", (RequestDelegate)SnapshotAsync);
    }

    /// <summary>The header with the index a served snapshot's name gives (the state in it may be newer).</summary>
    public const string SnapshotIndexHeader = "X-O3-Snapshot-Index";

    /// <summary>
    /// Streams this node's newest metadata snapshot file, when it is at ?min= or later, to a node of the
    /// cluster that a leader sent a reference to it (SnapshotReference): 409 when this node has none that
    /// new (or is fetching its own), 403 for anyone else.
    /// </summary>
    private async Task SnapshotAsync(HttpContext http)
    {
        if (!InternalAuth.MayReadMetadata(node, http))
        {
            await WriteErrorAsync(http, HttpStatusCode.Forbidden, "only nodes of the cluster may read its metadata").ConfigureAwait(false);
            return;
        }

        if (!long.TryParse(http.Request.Query["min"], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long min))
        {
            await WriteErrorAsync(http, HttpStatusCode.BadRequest, "?min= names the oldest snapshot index the caller can take").ConfigureAwait(false);
            return;
        }

        if (node.Raft.OpenSnapshot(min) is not var (stream, index))
        {
            await WriteErrorAsync(http, HttpStatusCode.Conflict, $"{node.NodeId} holds no metadata snapshot at index {min} or later").ConfigureAwait(false);
            return;
        }

        await using (stream.ConfigureAwait(false))
        {
            http.Response.ContentType = "application/octet-stream";
            http.Response.ContentLength = stream.Length;
            http.Response.Headers[SnapshotIndexHeader] = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await stream.CopyToAsync(http.Response.Body, 1 << 20, http.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Commits a bucket or object command for another node. Only members may call it (by source
    /// address), and with authentication on only with the cluster's admin key; membership changes
    /// never come this way (joins have their own endpoint).
    /// </summary>
    private async Task ProposeAsync(HttpContext http)
    {
        if (!InternalAuth.IsAllowed(node, http))
        {
            await WriteErrorAsync(http, HttpStatusCode.Forbidden, "only cluster members holding the admin key may propose").ConfigureAwait(false);
            return;
        }

        if (http.Request.ContentLength is null or > ProposeBodyBytesMax)
        {
            await WriteErrorAsync(http, HttpStatusCode.RequestEntityTooLarge, $"a proposal has a Content-Length of at most {ProposeBodyBytesMax} bytes").ConfigureAwait(false);
            return;
        }

        byte[] body = new byte[(int)http.Request.ContentLength];
        await http.Request.Body.ReadExactlyAsync(body, http.RequestAborted).ConfigureAwait(false);
        MetadataCommand command;
        try
        {
            command = MetadataCodec.Decode(body);
        }
        catch (MetadataFormatException e)
        {
            await WriteErrorAsync(http, HttpStatusCode.BadRequest, e.Message).ConfigureAwait(false);
            return;
        }

        // SetApiKeys: a member shares its api-keys.txt (KeySyncLoop).
        if (!(Batch.MayHold(command) || command is Batch or SetApiKeys))
        {
            await WriteErrorAsync(http, HttpStatusCode.BadRequest, $"{command.GetType().Name} cannot be proposed here").ConfigureAwait(false);
            return;
        }

        if (!node.Raft.IsLeader && http.Request.Headers.ContainsKey(PeerClient.ForwardedHeader))
        {
            await WriteErrorAsync(http, HttpStatusCode.ServiceUnavailable, $"{node.NodeId} is not the leader; retry").ConfigureAwait(false);
            return;
        }

        try
        {
            await proposer.ProposeAsync(command, http.RequestAborted, forwarded: true).ConfigureAwait(false);
            http.Response.StatusCode = (int)HttpStatusCode.NoContent;
        }
        catch (ProposeException e)
        {
            await WriteErrorAsync(http, HttpStatusCode.ServiceUnavailable, e.Message).ConfigureAwait(false);
        }
    }

    private Task HealthAsync(HttpContext http)
    {
        (HealthReport report, int status) = node.Lifecycle.IsRemoved
            ? HealthEvaluator.Removed(node.NodeId, node.Identity.Uuid, node.Version, node.Uptime, node.Lifecycle.Removed.Result, NodeContext.DescribeAuth(node.Options, node.Keys, node.Raft.Trust), node.CaptureHardware())
            : HealthEvaluator.Evaluate(node.CaptureHealthInputs(), node.Peers, time.GetUtcNow());
        http.Response.StatusCode = status;
        http.Response.Headers.CacheControl = "no-store";
        return http.Response.WriteAsJsonAsync(report, HealthJson.HealthReport, cancellationToken: http.RequestAborted);
    }

    /// <summary>What /health reports as gauges (MetricsText), then the latency histograms and counters (NodeMetrics).</summary>
    private async Task MetricsAsync(HttpContext http)
    {
        (HealthReport report, _) = HealthEvaluator.Evaluate(node.CaptureHealthInputs(), node.Peers, time.GetUtcNow());
        http.Response.ContentType = MetricsText.ContentType;
        http.Response.Headers.CacheControl = "no-store";
        await http.Response.WriteAsync(MetricsText.Write(report), http.RequestAborted).ConfigureAwait(false);
        await node.Metrics.ExportAsync(http.Response.Body, http.RequestAborted).ConfigureAwait(false);
    }

    private Task PingAsync(HttpContext http)
    {
        // A caller this cluster removed (same id and identity) is told so: a node that was down when it was removed learns it here.
        MetadataState state = node.Raft.Metadata;
        string? from = http.Request.Query["from"].ToString() is { Length: > 0 } named ? named : null;
        Guid uuid = Guid.TryParse(http.Request.Query["uuid"], out Guid parsed) ? parsed : Guid.Empty;
        bool callerRemoved = from is not null && uuid != Guid.Empty && state.Removed.TryGetValue(from, out RemovedMember? removed) && removed.Uuid == uuid;
        // A node of an earlier incarnation of this cluster (restored from a backup, or on the other side of
        // a split) learns here that it is not a member, and joins anew (NodeHost).
        bool settled = !node.Refounding;
        bool? callerIsMember = from is null || !settled ? null : state.Members.TryGetValue(from, out MemberRecord? member) && (uuid == Guid.Empty || member.Uuid == uuid);
        string? certificates = node.Raft.Trust is null ? null : node.AuthorityDirectory is null ? PingResponse.OperatorCertificates : PingResponse.ClusterCa;
        var answer = new PingResponse(node.NodeId, settled ? node.Raft.Role.ToWireName() : PingResponse.RefoundingRole, node.Raft.Term, node.LeaderNodeId(), state.Settings?.ClusterId, callerRemoved, state.Settings is null || !settled ? null : state.IncarnationId, callerIsMember, node.Version, MetadataCodec.Level, certificates);
        if (node.Raft.Trust is not null && http.Connection.ClientCertificate is null)
        {
            // Not a holder of the cluster's certificates (a joining node before enrolment, or a stranger):
            // which cluster answers and how to get certificates, nothing about its term, leader or build.
            answer = answer with { Term = 0, Leader = null, Version = null, CallerRemoved = false, CallerIsMember = null };
        }

        return http.Response.WriteAsJsonAsync(answer, InternalJsonContext.Default.PingResponse, cancellationToken: http.RequestAborted);
    }

    /// <summary>
    /// A node-to-node request's JSON body, read whole but bounded (a chunked body too: it has no
    /// Content-Length to check first). Read false: the caller was answered 413 or 400 with what is wrong.
    /// </summary>
    internal static async Task<(bool Read, T? Value)> ReadJsonAsync<T>(HttpContext http, int limit, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what)
    {
        try
        {
            byte[]? body = http.Request.ContentLength > limit ? null : await ReadAtMostAsync(http, limit).ConfigureAwait(false);
            if (body is null)
            {
                await WriteErrorAsync(http, HttpStatusCode.RequestEntityTooLarge, $"{what} larger than {limit} bytes").ConfigureAwait(false);
                return (false, default);
            }

            return (true, JsonSerializer.Deserialize(body, type));
        }
        catch (JsonException e)
        {
            await WriteErrorAsync(http, HttpStatusCode.BadRequest, $"{what} is not valid JSON: {e.Message}").ConfigureAwait(false);
            return (false, default);
        }
    }

    /// <summary>The request body, or null once it passes <paramref name="limit"/> bytes (the rest is not read).</summary>
    private static async Task<byte[]?> ReadAtMostAsync(HttpContext http, int limit)
    {
        byte[] buffer = new byte[limit + 1];
        int total = 0;
        int read;
        while (total <= limit && (read = await http.Request.Body.ReadAsync(buffer.AsMemory(total), http.RequestAborted).ConfigureAwait(false)) > 0)
        {
            total += read;
        }

        return total > limit ? null : buffer[..total];
    }

    private async Task JoinAsync(HttpContext http)
    {
        (bool read, JoinRequest? request) = await ReadJsonAsync(http, JoinBodyBytesMax, InternalJsonContext.Default.JoinRequest, "join request").ConfigureAwait(false);
        if (!read)
        {
            return;
        }

        if (request is null
            || !NodeAddress.TryParse(request.NodeId, 0, out NodeAddress nodeAddress, out _) || nodeAddress.Port == 0
            || !NodeAddress.TryParse(request.ClusterEndpoint, 0, out NodeAddress clusterAddress, out _) || clusterAddress.Port == 0
            || request.Uuid == Guid.Empty)
        {
            await WriteErrorAsync(http, HttpStatusCode.BadRequest, "join request needs node_id (ip:port), cluster_endpoint (ip:port) and uuid").ConfigureAwait(false);
            return;
        }

        // A cluster on certificates admits only nodes with one of them (the key is the proof; the handshake
        // checked it names the caller's address), or a member passing a join on.
        if (node.Raft.Trust is not null && http.Connection.ClientCertificate is null)
        {
            string reason = node.AuthorityDirectory is null
                ? $"{node.NodeId} refuses {request.NodeId}: this cluster's nodes talk over TLS with certificates of its CA; a joining node needs ca-cert.pem and a certificate naming its address, with its key, in /opt/o3storage/certs (or --certs)"
                : $"{node.NodeId} refuses {request.NodeId}: this cluster's nodes talk over TLS with certificates of its own CA; a joining node gets one by proving the join token first (--join-token-file)";
            LogRefusal(node, logger, http, request.NodeId, reason);
            await WriteErrorAsync(http, HttpStatusCode.Forbidden, reason).ConfigureAwait(false);
            return;
        }

        // A node whose o3storage.txt sets a join token admits only nodes that prove it; the joiner is told why.
        // The open token (no join_token) is no secret, so then anyone may join, as the guide's --peers does.
        if (node.Options.BootConfig is { IsOpen: false } bootConfig && node.Secret?.VerifiesJoin(request.NodeId, request.ClusterEndpoint, request.Uuid, request.TokenProof) != true)
        {
            string reason = request.TokenProof is null
                ? $"{node.NodeId} refuses {request.NodeId}: this cluster (cluster_name {bootConfig.ClusterName}) requires its join token; start the node with the cluster's o3storage.txt (--boot-config)"
                : $"{node.NodeId} refuses {request.NodeId}: wrong join token (join_token in its o3storage.txt differs from cluster {bootConfig.ClusterName}'s)";
            LogRefusal(node, logger, http, request.NodeId, reason);
            await WriteErrorAsync(http, HttpStatusCode.Forbidden, reason).ConfigureAwait(false);
            return;
        }

        // In a closed cluster a node asks for itself, from its own address (nodes call from their --ip),
        // or a member forwards it: a proof seen on the wire cannot be replayed from elsewhere.
        IPAddress? caller = http.Connection.RemoteIpAddress;
        caller = caller is { IsIPv4MappedToIPv6: true } ? caller.MapToIPv4() : caller;
        bool fromItself = nodeAddress.Ip.Equals(caller);
        bool forwardedByMember = http.Request.Headers.ContainsKey(PeerClient.ForwardedHeader)
            && node.Raft.Metadata.Members.Keys.Any(id => NodeAddress.TryParse(id, 0, out NodeAddress member, out _) && member.Ip.Equals(caller));
        if (node.Options.BootConfig is { IsOpen: false } && !fromItself && !forwardedByMember)
        {
            string reason = $"{node.NodeId} refuses {request.NodeId}: the request came from {caller}, neither the joining node's own address nor a member's";
            LogRefusal(node, logger, http, request.NodeId, reason);
            await WriteErrorAsync(http, HttpStatusCode.Forbidden, reason).ConfigureAwait(false);
            return;
        }

        // A build that cannot read what the cluster writes would stop (exit 70) on its first such record.
        if ((request.MetadataLevel ?? 1) < node.Raft.Metadata.ClusterLevel)
        {
            string reason = $"{node.NodeId} refuses {request.NodeId}: its build reads metadata level {request.MetadataLevel ?? 1}, and the cluster writes level {node.Raft.Metadata.ClusterLevel}; install the release the members run";
            LogRefusal(node, logger, http, request.NodeId, reason);
            await WriteErrorAsync(http, HttpStatusCode.Forbidden, reason).ConfigureAwait(false);
            return;
        }

        // A removed node keeps its identity in its data: it must be wiped (a new uuid) to come back.
        if (node.Raft.Metadata.Removed.TryGetValue(nodeAddress.ToString(), out RemovedMember? removed) && removed.Uuid == request.Uuid)
        {
            string reason = $"{node.NodeId} refuses {request.NodeId}: the cluster removed that node; wipe its --data and start it again with --peers to join as a new node";
            LogRefusal(node, logger, http, request.NodeId, reason);
            await WriteErrorAsync(http, HttpStatusCode.Forbidden, reason).ConfigureAwait(false);
            return;
        }

        if (node.Raft.IsLeader)
        {
            try
            {
                await node.Raft.AddMemberAsync(nodeAddress.ToString(), clusterAddress.ToEndPoint(), request.Uuid, http.RequestAborted).ConfigureAwait(false);
                NodeLog.MemberAdded(logger, nodeAddress.ToString(), clusterAddress.ToString());
                await http.Response.WriteAsJsonAsync(new JoinResponse(node.Raft.Metadata.Settings?.ClusterId, node.NodeId), InternalJsonContext.Default.JoinResponse, cancellationToken: http.RequestAborted).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MembershipChangeException or NotLeaderException or CommitOutcomeUnknownException or OperationCanceledException && !http.RequestAborted.IsCancellationRequested)
            {
                LogRefusal(node, logger, http, request.NodeId, e.Message);
                await WriteErrorAsync(http, HttpStatusCode.ServiceUnavailable, $"leader {node.NodeId} could not add {request.NodeId}: {e.Message}").ConfigureAwait(false);
            }

            return;
        }

        string? leader = node.LeaderNodeId();
        if (leader is null || http.Request.Headers.ContainsKey(PeerClient.ForwardedHeader))
        {
            await WriteErrorAsync(http, HttpStatusCode.ServiceUnavailable, $"{node.NodeId} knows no leader to add {request.NodeId}; retry").ConfigureAwait(false);
            return;
        }

        try
        {
            (JoinResponse? response, HttpStatusCode status, string? error) = await peers.JoinAsync(leader, request, http.RequestAborted, forwarded: true).ConfigureAwait(false);
            if (response is not null)
            {
                await http.Response.WriteAsJsonAsync(response, InternalJsonContext.Default.JoinResponse, cancellationToken: http.RequestAborted).ConfigureAwait(false);
            }
            else
            {
                await WriteErrorAsync(http, status, error ?? "leader refused the join").ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !http.RequestAborted.IsCancellationRequested)
        {
            await WriteErrorAsync(http, HttpStatusCode.ServiceUnavailable, $"leader {leader} unreachable from {node.NodeId}: {PeerClient.Describe(e)}").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Logs a refused join or enrolment at most once a minute per caller address and kind of refusal (the
    /// node id in the reason is the caller's to choose, so it does not make a refusal new), saying how many
    /// were held back: a stranger's flood costs the log a line a minute.
    /// </summary>
    internal static void LogRefusal(NodeContext node, ILogger logger, HttpContext http, string nodeId, string reason)
    {
        IPAddress? caller = http.Connection.RemoteIpAddress;
        caller = caller is { IsIPv4MappedToIPv6: true } ? caller.MapToIPv4() : caller;
        string kind = string.IsNullOrEmpty(nodeId) ? reason : reason.Replace(nodeId, "*", StringComparison.Ordinal);
        if (node.Refusals.Pass($"{caller} {kind}", out int held))
        {
            NodeLog.JoinRefused(logger, nodeId, reason, held == 0 ? string.Empty : $" (and {held} times more from {caller} in the last minute)");
        }
    }

    internal static Task WriteErrorAsync(HttpContext http, HttpStatusCode status, string message)
    {
        http.Response.StatusCode = (int)status;
        return http.Response.WriteAsJsonAsync(new ErrorResponse(message), InternalJsonContext.Default.ErrorResponse, cancellationToken: http.RequestAborted);
    }
}
