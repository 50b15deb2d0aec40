// Owns: the admin edge, /admin/*: the guide's cluster operations over JSON. Any node accepts a call; a
// follower passes it to the leader once (marked, never passed on twice) and relays the answer, since the
// leader alone changes membership and runs rebalancing. Handlers stay thin over pure decisions
// (RemovalDecision, ReplicaPlanner) and commit through Raft. The calls behind o3ctl backup and restore
// (AdminEndpoints.Backup.cs) are "local": served by the node asked, their bodies streamed, not relayed.
// Who may call: without a key file anyone (as the guide shows; the node logs it at start); with one,
// an admin key as a bearer token or a SigV4 signature. A forwarded call must come from a member
// holding the cluster's admin key (InternalAuth).
// Errors are JSON {"error", "detail"}: 400 bad body or field, 403 not admin, 404 unknown path or node,
// 405 wrong method, 409 unsafe or conflicting, 503 no leader or quorum (with Retry-After). Never S3 XML.
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using O3Storage.Cluster;
using O3Storage.Cluster.Lifecycle;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;
using O3Storage.Node.Api;
using O3Storage.Node.Auth;
using O3Storage.Node.Consensus;
using O3Storage.Node.Diagnostics;
using O3Storage.Node.Hosting;
using O3Storage.Node.Transport;

namespace O3Storage.Node.Admin;

internal sealed partial class AdminEndpoints(NodeContext node, NodeLifecycle lifecycle, MetadataProposer proposer, PeerClient peers, O3Storage.Node.Data.DataPath data, TimeProvider time, ILogger logger)
{
    /// <summary>How long an admin call waits for the cluster (a commit, a membership change) before a 503.</summary>
    public static readonly TimeSpan ClusterWaitTimeout = TimeSpan.FromSeconds(10);

    private const int RetryAfterSeconds = 2;
    private const int ReasonLengthMax = 512;

    public static AdminJsonContext Json { get; } = new(new JsonSerializerOptions(AdminJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>
    /// One admin call. A <see cref="Local"/> one is served by the node asked, never passed to the leader: it
    /// reads what every member holds (a snapshot's contents) or streams a body of any size (an import), so
    /// its body is not buffered, and its handler is given the request's own token with no cluster deadline.
    /// </summary>
    private sealed record Route(string Template, string Method, string[] Fields, Func<HttpContext, AdminBody, CancellationToken, Task> Handle)
    {
        public bool Local { get; init; }
    }

    private Route[] Routes() =>
    [
        new("/admin/remove-node", "POST", ["node_id", "force"], RemoveNodeAsync),
        new("/admin/maintenance", "POST", ["enabled", "reason"], MaintenanceAsync),
        new("/admin/rebalance", "POST", ["strategy"], RebalanceAsync),
        new("/admin/rebalance-status", "GET", [], RebalanceStatusAsync),
        new("/admin/snapshot", "POST", ["name"], CreateSnapshotAsync),
        new("/admin/snapshots", "GET", [], ListSnapshotsAsync),
        new(SnapshotPath + NameSegment, "DELETE", [], DeleteSnapshotAsync),
        new(SnapshotPath + NameSegment, "GET", [], DescribeSnapshotAsync) { Local = true },
        new(SnapshotPath + NameSegment + ObjectsSuffix, "GET", [], ListSnapshotObjectsAsync) { Local = true },
        new(SnapshotPath + NameSegment + ObjectSuffix, "GET", [], ReadSnapshotObjectAsync) { Local = true },
        new("/admin/restore", "POST", ["snapshot", "force"], RestoreAsync),
        new("/admin/import/bucket", "POST", ["name", "created_at"], ImportBucketAsync),
        new("/admin/import/object", "PUT", [], ImportObjectAsync) { Local = true },
        new("/admin/keys", "GET", [], ListKeysAsync),
        new(KeysPath + NameSegment, "DELETE", [], RetireKeyAsync),
    ];

    private const string KeysPath = "/admin/keys/";

    private const string SnapshotPath = "/admin/snapshots/";
    private const string NameSegment = "{name}";

    /// <summary>Snapshot calls run one at a time on the leader, so "created" and "exists" answer truly.</summary>
    private readonly SemaphoreSlim _snapshots = new(1, 1);

    public void Map(IEndpointRouteBuilder routes)
    {
        Route[] table = Routes();
        RequestDelegate handle = http => HandleAsync(http, table);
        routes.Map("/admin", handle);
        routes.Map("/admin/{**rest}", handle);
    }

    private async Task HandleAsync(HttpContext http, Route[] table)
    {
        http.Response.Headers.CacheControl = "no-store";
        string path = http.Request.Path.Value?.TrimEnd('/') ?? string.Empty;
        Route[] matching = [.. table.Where(r => PathName(r.Template, path) is not null)];
        if (matching.Length == 0)
        {
            await ErrorAsync(http, 404, $"no admin call {http.Request.Method} {http.Request.Path}", $"admin calls: {string.Join(", ", table.Select(r => $"{r.Method} {r.Template}"))}").ConfigureAwait(false);
            return;
        }

        if (matching.FirstOrDefault(r => string.Equals(http.Request.Method, r.Method, StringComparison.OrdinalIgnoreCase)) is not { } route)
        {
            string allowed = string.Join(", ", matching.Select(r => r.Method));
            http.Response.Headers.Allow = allowed;
            await ErrorAsync(http, 405, $"{path} takes {allowed}, not {http.Request.Method}", null).ConfigureAwait(false);
            return;
        }

        if (route.Local)
        {
            await HandleLocalAsync(http, route).ConfigureAwait(false);
            return;
        }

        if (http.Request.ContentLength is > AdminBody.BytesMax)
        {
            await ErrorAsync(http, 413, $"an admin body has at most {AdminBody.BytesMax} bytes", null).ConfigureAwait(false);
            return;
        }

        byte[] body = await ReadBodyAsync(http).ConfigureAwait(false);
        if (body.Length > AdminBody.BytesMax)
        {
            await ErrorAsync(http, 413, $"an admin body has at most {AdminBody.BytesMax} bytes", null).ConfigureAwait(false);
            return;
        }

        bool forwarded = http.Request.Headers.ContainsKey(PeerClient.ForwardedHeader);
        string? refused = forwarded
            ? InternalAuth.IsAllowed(node, http) ? null : "only cluster members holding the admin key may forward admin calls"
            : Authorize(http, body);
        if (refused is not null)
        {
            await ErrorAsync(http, 403, refused, "admin calls need a key of role admin from api-keys.txt, as a bearer token (Authorization: Bearer KEY) or a SigV4 signature").ConfigureAwait(false);
            return;
        }

        if (lifecycle.IsRemoved)
        {
            await ErrorAsync(http, 503, $"{node.NodeId} was removed from the cluster", await lifecycle.Removed.ConfigureAwait(false)).ConfigureAwait(false);
            return;
        }

        AdminBody? parsed = AdminBody.Parse(body, http.Request.ContentType, route.Fields, out AdminError? bad);
        if (parsed is null)
        {
            await WriteAsync(http, 400, bad!, Json.AdminError).ConfigureAwait(false);
            return;
        }

        if (!node.Raft.IsLeader)
        {
            await ForwardAsync(http, body, forwarded).ConfigureAwait(false);
            return;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        deadline.CancelAfter(ClusterWaitTimeout);
        try
        {
            await route.Handle(http, parsed, deadline.Token).ConfigureAwait(false);
        }
        catch (MetadataLevelException e) when (!http.Response.HasStarted)
        {
            string members = string.Join(", ", node.Raft.Metadata.Members.Keys.Select(id =>
                $"{id} level {(id == node.NodeId ? MetadataCodec.Level : node.Peers.Find(id)?.MetadataLevel)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}"));
            await ErrorAsync(http, 409, e.Message, $"members and the metadata level they read: {members}; /health .cluster.metadata_level rises once every member runs the new release").ConfigureAwait(false);
        }
        catch (Exception e) when (!http.RequestAborted.IsCancellationRequested && !http.Response.HasStarted
            && e is OperationCanceledException or ProposeException or MembershipChangeException or CommitOutcomeUnknownException or DotNext.Net.Cluster.Consensus.Raft.NotLeaderException or DotNext.Net.Cluster.Consensus.Raft.QuorumUnreachableException)
        {
            await UnavailableAsync(http, "the cluster did not complete the change", e is OperationCanceledException ? $"no commit within {ClusterWaitTimeout.TotalSeconds:0} s (no quorum?)" : e.Message).ConfigureAwait(false);
        }
    }

    /// <summary>Null when the caller may make admin calls; else why not.</summary>
    private string? Authorize(HttpContext http, byte[] body)
    {
        if (node.Keys is not { } keys)
        {
            return null;
        }

        string authorization = http.Request.Headers.Authorization.ToString();
        string rawTarget = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (http.Request.Path + http.Request.QueryString).ToString();
        int question = rawTarget.IndexOf('?');
        var request = new SigV4Request(http.Request.Method, question < 0 ? rawTarget : rawTarget[..question], question < 0 ? string.Empty : rawTarget[(question + 1)..], name => http.Request.Headers.TryGetValue(name, out var values) ? values.ToString() : null);
        ApiKey? key;
        if (SigV4.IsSigned(request))
        {
            SigV4Context? context = SigV4.Verify(request, keys, time.GetUtcNow(), out SigV4Error? refused);
            if (context is null)
            {
                return $"the signature was refused: {refused!.Message}";
            }

            if (context.ContentSha256 != SigV4Context.UnsignedPayload && !string.Equals(context.ContentSha256, Convert.ToHexStringLower(SHA256.HashData(body)), StringComparison.OrdinalIgnoreCase))
            {
                return "the body does not match the signed x-amz-content-sha256";
            }

            key = context.Key;
        }
        else if (authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            key = keys.FindBySecret(authorization[7..]);
            if (key is null)
            {
                return "the bearer key is not in this cluster's api-keys.txt";
            }
        }
        else
        {
            return "admin calls need an admin key: authentication is on";
        }

        return key.IsAdmin ? null : $"a {ApiKeys.RoleName(key.Role)} key may not make admin calls";
    }

    private async Task ForwardAsync(HttpContext http, byte[] body, bool forwarded)
    {
        string? leader = node.LeaderNodeId();
        if (leader is null || forwarded)
        {
            await UnavailableAsync(http, $"{node.NodeId} knows no leader to pass the call to", "the cluster has no leader (no quorum?); retry").ConfigureAwait(false);
            return;
        }

        try
        {
            await RelayAsync(http, await peers.ForwardAdminAsync(
                leader, new HttpMethod(http.Request.Method), http.Request.Path + http.Request.QueryString, body, InternalAuth.Bearer(node.Keys, node.Raft.Trust), http.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !http.RequestAborted.IsCancellationRequested)
        {
            await UnavailableAsync(http, $"the leader {leader} did not answer", PeerClient.Describe(e)).ConfigureAwait(false);
        }
    }

    private async Task RemoveNodeAsync(HttpContext http, AdminBody body, CancellationToken token)
    {
        string? requested = body.String("node_id", out AdminError? bad);
        bool force = body.Bool("force", out AdminError? badForce) ?? false;
        if ((bad ?? badForce) is { } typeError)
        {
            await WriteAsync(http, 400, typeError, Json.AdminError).ConfigureAwait(false);
            return;
        }

        MetadataState state = node.Raft.Metadata;
        if (requested is null || !NodeAddress.TryParse(requested.Trim(), 0, out NodeAddress address, out _))
        {
            await ErrorAsync(http, 400, requested is null ? "'node_id' is required" : $"'node_id' {requested} is not a node id", "a node id is the node's ip:port as /health's members list it, e.g. {\"node_id\": \"192.168.1.104:8080\"}").ConfigureAwait(false);
            return;
        }

        if (ResolveNodeId(state, address) is not { } nodeId)
        {
            await ErrorAsync(http, 404, $"no member has the address {address.Ip}", $"give its ip:port; members: {string.Join(", ", state.Members.Keys)}").ConfigureAwait(false);
            return;
        }

        if (!await lifecycle.Removals.WaitAsync(0, token).ConfigureAwait(false))
        {
            await ErrorAsync(http, 409, "another removal is in progress", "remove one node at a time; retry when the current one is done").ConfigureAwait(false);
            return;
        }

        RemovalVerdict verdict;
        long objects;
        try
        {
            await node.Raft.ReadBarrierAsync(token).ConfigureAwait(false);
            state = node.Raft.Metadata;
            objects = state.ObjectsByReplica.GetValueOrDefault(nodeId);
            verdict = RemovalDecision.Decide(state, node.Peers.Liveness(state.Members.Keys, node.NodeId, lifecycle.DeadNodeGrace), nodeId, force);
            if (verdict is not RemovalRefused && nodeId != node.NodeId)
            {
                await ApplyRemovalAsync(http, verdict, state, objects, token).ConfigureAwait(false);
                return;
            }
        }
        finally
        {
            lifecycle.Removals.Release();
        }

        if (verdict is RemovalRefused refused)
        {
            await ErrorAsync(http, refused.Status, refused.Error, refused.Detail).ConfigureAwait(false);
            return;
        }

        // The leader is to go: it hands leadership over first, and its successor drains or removes it.
        NodeLog.HandingOverToBeRemoved(logger, nodeId);
        if (!await node.Raft.HandOverAsync(TimeSpan.FromSeconds(5), token).ConfigureAwait(false))
        {
            await UnavailableAsync(http, "no other member took over leadership", "the leader hands over before it is removed; retry").ConfigureAwait(false);
            return;
        }

        // The successor may take a moment to see itself as leader: its 503s are retried briefly. Unless it
        // drains or removes this node, this node stands for election again (it must not stay out for good).
        byte[] request = RemoveNodeBody(nodeId, force);
        bool taken = false;
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                (HttpStatusCode status, byte[] answer, string? retryAfter)? relayed = node.LeaderNodeId() is { } leader && leader != node.NodeId
                    ? await TryForwardAsync(leader, http.Request.Method, http.Request.Path.ToString(), request, token).ConfigureAwait(false)
                    : null;
                if (relayed is { } done && (done.status != HttpStatusCode.ServiceUnavailable || attempt == HandOverAttempts))
                {
                    taken = done.status is HttpStatusCode.OK or HttpStatusCode.Accepted;
                    await RelayAsync(http, done).ConfigureAwait(false);
                    return;
                }

                if (attempt == HandOverAttempts)
                {
                    await UnavailableAsync(http, "the new leader did not take the removal", "leadership moved, but no successor answered; retry").ConfigureAwait(false);
                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(300), token).ConfigureAwait(false);
            }
        }
        finally
        {
            if (!taken)
            {
                await node.Raft.ResumeCandidacyAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>How often the old leader offers its own removal to its successor before giving up.</summary>
    private const int HandOverAttempts = 10;

    private async Task<(HttpStatusCode, byte[], string?)?> TryForwardAsync(string leader, string method, string path, byte[] body, CancellationToken token)
    {
        try
        {
            return await peers.ForwardAdminAsync(leader, new HttpMethod(method), path, body, InternalAuth.Bearer(node.Keys, node.Raft.Trust), token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !token.IsCancellationRequested)
        {
            return null;
        }
    }

    private static async Task RelayAsync(HttpContext http, (HttpStatusCode Status, byte[] Body, string? RetryAfter) answer)
    {
        http.Response.StatusCode = (int)answer.Status;
        http.Response.ContentType = "application/json";
        if (answer.RetryAfter is not null)
        {
            http.Response.Headers.RetryAfter = answer.RetryAfter;
        }

        await http.Response.Body.WriteAsync(answer.Body, http.RequestAborted).ConfigureAwait(false);
    }

    private async Task ApplyRemovalAsync(HttpContext http, RemovalVerdict verdict, MetadataState state, long objects, CancellationToken token)
    {
        string nodeId = verdict switch
        {
            StartDrain drain => drain.NodeId,
            AlreadyDraining draining => draining.NodeId,
            RemoveNow now => now.NodeId,
            _ => throw new System.Diagnostics.UnreachableException($"verdict {verdict} applies nothing"),
        };
        if (verdict is RemoveNow remove)
        {
            await node.Raft.RemoveMemberAsync(nodeId, IPEndPoint.Parse(state.Members[nodeId].ClusterEndPoint), time.GetUtcNow().ToUnixTimeMilliseconds(), token).ConfigureAwait(false);
            NodeLog.MemberRemoved(logger, nodeId, remove.WasUp ? "removed by an admin call (forced, without draining)" : "removed by an admin call while down");
            lifecycle.Wake();
            string detail = objects == 0 ? "it held no objects" : $"its {objects} objects are copied from the other members to where placement wants them now; watch GET /admin/rebalance-status";
            await WriteAsync(http, 200, new RemoveNodeResponse(nodeId, "removed", remove.WasUp, objects, [.. node.Raft.Metadata.Members.Keys], detail), Json.RemoveNodeResponse).ConfigureAwait(false);
            return;
        }

        if (state.Members[nodeId].State != MemberState.Draining)
        {
            await proposer.ProposeAsync(new SetMemberState(nodeId, MemberState.Draining), token).ConfigureAwait(false);
            NodeLog.MemberDraining(logger, nodeId);
        }

        lifecycle.Wake();
        await WriteAsync(http, 202, new RemoveNodeResponse(nodeId, "draining", true, objects, [.. node.Raft.Metadata.Members.Keys], $"its {objects} objects move to the other members, then it is removed; watch GET /admin/rebalance-status"), Json.RemoveNodeResponse).ConfigureAwait(false);
    }

    private static byte[] RemoveNodeBody(string nodeId, bool force)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("node_id", nodeId);
            writer.WriteBoolean("force", force);
            writer.WriteEndObject();
        }

        return stream.ToArray();
    }

    /// <summary>The node <paramref name="address"/> names: its ip:port as given, or, for an ip alone, the one member with that ip.</summary>
    private static string? ResolveNodeId(MetadataState state, NodeAddress address)
    {
        if (address.Port != 0)
        {
            return address.ToString();
        }

        string[] sameIp = [.. state.Members.Keys.Where(id => NodeAddress.TryParse(id, 0, out NodeAddress member, out _) && member.Ip.Equals(address.Ip))];
        return sameIp.Length == 1 ? sameIp[0] : null;
    }

    private async Task MaintenanceAsync(HttpContext http, AdminBody body, CancellationToken token)
    {
        bool? enabled = body.Bool("enabled", out AdminError? bad);
        string? reason = body.String("reason", out AdminError? badReason);
        if ((bad ?? badReason) is { } typeError)
        {
            await WriteAsync(http, 400, typeError, Json.AdminError).ConfigureAwait(false);
            return;
        }

        if (enabled is null)
        {
            await ErrorAsync(http, 400, "'enabled' is required", "{\"enabled\": true, \"reason\": \"scheduled maintenance\"} or {\"enabled\": false}").ConfigureAwait(false);
            return;
        }

        if (reason is { Length: > ReasonLengthMax })
        {
            await ErrorAsync(http, 400, $"'reason' is longer than {ReasonLengthMax} characters", null).ConfigureAwait(false);
            return;
        }

        MaintenanceMode? mode = enabled.Value ? new MaintenanceMode(string.IsNullOrWhiteSpace(reason) ? "maintenance" : reason.Trim(), time.GetUtcNow().ToUnixTimeMilliseconds()) : null;
        await proposer.ProposeAsync(new SetMaintenance(mode), token).ConfigureAwait(false);
        NodeLog.MaintenanceChanged(logger, mode is null ? "off" : "on", mode is null ? string.Empty : $": {mode.Reason}");
        MaintenanceMode? now = node.Raft.Metadata.Maintenance;
        await WriteAsync(http, 200, new MaintenanceResponse(now is not null, now?.Reason, now is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(now.SinceUnixMs), now is null), Json.MaintenanceResponse).ConfigureAwait(false);
    }

    private async Task RebalanceAsync(HttpContext http, AdminBody body, CancellationToken token)
    {
        string strategy = body.String("strategy", out AdminError? bad) ?? RebalanceProgress.EvenDistribution;
        if (bad is not null)
        {
            await WriteAsync(http, 400, bad, Json.AdminError).ConfigureAwait(false);
            return;
        }

        if (!RebalanceProgress.Strategies.Contains(strategy))
        {
            await ErrorAsync(http, 400, $"unknown strategy '{strategy}'", $"known strategies: {string.Join(", ", RebalanceProgress.Strategies)}").ConfigureAwait(false);
            return;
        }

        await node.Raft.ReadBarrierAsync(token).ConfigureAwait(false);
        lifecycle.Rebalance.Requested(strategy);
        lifecycle.Wake();
        await WriteAsync(http, 202, lifecycle.Rebalance.Snapshot(node.NodeId), Json.RebalanceStatus).ConfigureAwait(false);
    }

    private Task RebalanceStatusAsync(HttpContext http, AdminBody body, CancellationToken token) =>
        WriteAsync(http, 200, lifecycle.Rebalance.Snapshot(node.NodeId), Json.RebalanceStatus);

    private async Task CreateSnapshotAsync(HttpContext http, AdminBody body, CancellationToken token)
    {
        if (await SnapshotNameAsync(http, body.String("name", out AdminError? bad), bad, "name") is not { } name)
        {
            return;
        }

        await WithSnapshotAsync(http, name, mustExist: false, token, async (_, existing) =>
        {
            if (existing is not null)
            {
                await WriteAsync(http, 200, new SnapshotResponse(name, "exists", Describe(existing), $"snapshot {name} already exists (taken at index {existing.Index}); nothing changed"), Json.SnapshotResponse).ConfigureAwait(false);
                return;
            }

            await proposer.ProposeAsync(new CreateSnapshot(name, time.GetUtcNow().ToUnixTimeMilliseconds()), token).ConfigureAwait(false);
            if (!node.Raft.Metadata.Snapshots.TryGetValue(name, out NamespaceSnapshot? created))
            {
                await ErrorAsync(http, 409, $"snapshot {name} was deleted as it was created", "retry").ConfigureAwait(false);
                return;
            }

            NodeLog.SnapshotCreated(logger, name, created.Index, created.Objects, created.Bytes);
            await WriteAsync(http, 200, new SnapshotResponse(name, "created", Describe(created), $"every bucket, object and upload as of index {created.Index}; its blobs are kept until it is deleted"), Json.SnapshotResponse).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    private async Task ListSnapshotsAsync(HttpContext http, AdminBody body, CancellationToken token)
    {
        await node.Raft.ReadBarrierAsync(token).ConfigureAwait(false);
        MetadataState state = node.Raft.Metadata;
        (long bytes, long blobs) = NamespaceSnapshot.Pinned(state, state.Snapshots.Values);
        SnapshotInfo[] snapshots = [.. state.Snapshots.Values.OrderBy(n => n.Index).Select(n => Describe(n, state))];
        await WriteAsync(http, 200, new SnapshotListResponse(snapshots, bytes, blobs, state.LastRestore is { } last ? new RestoreInfo(last.Snapshot, last.Index, DateTimeOffset.FromUnixTimeMilliseconds(last.RestoredUnixMs)) : null), Json.SnapshotListResponse).ConfigureAwait(false);
    }

    private async Task DeleteSnapshotAsync(HttpContext http, AdminBody body, CancellationToken token)
    {
        string tail = PathName(SnapshotPath + NameSegment, http.Request.Path.Value!.TrimEnd('/'))!;
        if (await SnapshotNameAsync(http, tail, null, "the path's name") is not { } name)
        {
            return;
        }

        await WithSnapshotAsync(http, name, mustExist: true, token, async (state, doomed) =>
        {
            SnapshotInfo info = Describe(doomed!, state);
            await proposer.ProposeAsync(new DeleteSnapshot(name), token).ConfigureAwait(false);
            NodeLog.SnapshotDeleted(logger, name, info.PinnedBytes);
            await WriteAsync(http, 200, new SnapshotResponse(name, "deleted", info, $"its {info.PinnedBytes} pinned bytes are collected (those no other snapshot keeps)"), Json.SnapshotResponse).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    private async Task ListKeysAsync(HttpContext http, AdminBody body, CancellationToken token)
    {
        await node.Raft.ReadBarrierAsync(token).ConfigureAwait(false);
        MetadataState state = node.Raft.Metadata;
        KeyInfo[] keys = [.. state.ApiKeys
            .SelectMany(source => source.Value.Select(key => (Source: source.Key, Key: key)))
            .GroupBy(held => held.Key.AccessKeyId, StringComparer.Ordinal)
            .OrderBy(group => group.Key, StringComparer.Ordinal)
            .Select(group => new KeyInfo(group.Key, ApiKeys.RoleName((ApiRole)group.First().Key.Role), [.. group.Select(held => held.Source)]))]; // the role the first source gives it, as the nodes honour it
        string firstAdmin = !state.ApiKeys.TryGetValue(ClusterKey.FirstAdminSource, out var held) ? "none" : held.IsEmpty ? "retired" : "active";
        await WriteAsync(http, 200, new KeyListResponse(keys, firstAdmin, "keys come from each member's api-keys.txt (source: its node id) and the first admin key; every node honours them all (docs/auth.md)"), Json.KeyListResponse).ConfigureAwait(false);
    }

    /// <summary>Retires the first admin key (only it: a file's key leaves by taking it out of the file), once another admin key exists.</summary>
    private async Task RetireKeyAsync(HttpContext http, AdminBody body, CancellationToken token)
    {
        string id = PathName(KeysPath + NameSegment, http.Request.Path.Value!.TrimEnd('/'))!;
        await node.Raft.ReadBarrierAsync(token).ConfigureAwait(false);
        MetadataState state = node.Raft.Metadata;
        string[] files = [.. state.ApiKeys.Where(s => s.Key != ClusterKey.FirstAdminSource && s.Value.Any(k => k.AccessKeyId == id)).Select(s => s.Key)];
        bool first = state.ApiKeys.TryGetValue(ClusterKey.FirstAdminSource, out var held) && held.Any(k => k.AccessKeyId == id);
        if (!first)
        {
            await (files.Length > 0
                ? ErrorAsync(http, 409, $"{id} is in api-keys.txt of {string.Join(", ", files)}", "take its line out of those files: each node reads its file again within seconds, and the key stops working everywhere")
                : ErrorAsync(http, 404, $"the cluster holds no key {id}", "GET /admin/keys lists them")).ConfigureAwait(false);
            return;
        }

        if (!state.ApiKeys.Any(s => s.Key != ClusterKey.FirstAdminSource && s.Value.Any(k => k.Role == (byte)ApiRole.Admin)))
        {
            await ErrorAsync(http, 409, "the first admin key is the cluster's only admin key", "add an admin key of your own to api-keys.txt on any node first (echo \"admin:$(openssl rand -hex 32)\" | sudo tee -a /opt/o3storage/api-keys.txt), so the cluster is never left without one").ConfigureAwait(false);
            return;
        }

        await proposer.ProposeAsync(new SetApiKeys(ClusterKey.FirstAdminSource, []), token).ConfigureAwait(false);
        await WriteAsync(http, 200, new KeyRetiredResponse(id, "retired", "no node honours it any more; each member deletes its copy within seconds"), Json.KeyRetiredResponse).ConfigureAwait(false);
    }

    private async Task RestoreAsync(HttpContext http, AdminBody body, CancellationToken token)
    {
        bool force = body.Bool("force", out AdminError? badForce) ?? false;
        if (badForce is not null)
        {
            await WriteAsync(http, 400, badForce, Json.AdminError).ConfigureAwait(false);
            return;
        }

        if (await SnapshotNameAsync(http, body.String("snapshot", out AdminError? bad), bad, "snapshot") is not { } name)
        {
            return;
        }

        await WithSnapshotAsync(http, name, mustExist: true, token, async (state, snapshot) =>
        {
            if (state.LastRestore is { } last && last.Snapshot == name && !force)
            {
                // The guide calls restore on every node in turn: the first restores, the others find it done.
                await WriteAsync(http, 200, new RestoreResponse(name, "already_restored", last.Index, DateTimeOffset.FromUnixTimeMilliseconds(last.RestoredUnixMs), snapshot!.Objects, snapshot.Bytes, $"snapshot {name} is the last one restored (index {last.Index}); nothing changed. Objects written since stay; to set the namespace back to it again, send \"force\": true"), Json.RestoreResponse).ConfigureAwait(false);
                return;
            }

            long expected = state.LastRestore?.Index ?? 0;
            await proposer.ProposeAsync(new RestoreSnapshot(name, time.GetUtcNow().ToUnixTimeMilliseconds(), expected), token).ConfigureAwait(false);
            if (node.Raft.Metadata.LastRestore is not { } done || done.Snapshot != name || done.Index <= expected)
            {
                await ErrorAsync(http, 409, $"snapshot {name} was not restored", "another restore or the snapshot's deletion committed first; check GET /admin/snapshots and retry").ConfigureAwait(false);
                return;
            }

            NodeLog.SnapshotRestored(logger, name, snapshot!.Index, done.Index, snapshot.Objects);
            await WriteAsync(http, 200, new RestoreResponse(name, "restored", done.Index, DateTimeOffset.FromUnixTimeMilliseconds(done.RestoredUnixMs), snapshot.Objects, snapshot.Bytes, $"the namespace is as it was at index {snapshot.Index}: objects written since are gone (their space is collected), ones deleted since are back"), Json.RestoreResponse).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="act"/> with the snapshot calls' lock held, on metadata confirmed with a quorum
    /// (the read barrier: without one, nothing is proposed), given the snapshot named <paramref name="name"/>
    /// or null; answers 404 instead when it must exist and does not.
    /// </summary>
    private async Task WithSnapshotAsync(HttpContext http, string name, bool mustExist, CancellationToken token, Func<MetadataState, NamespaceSnapshot?, Task> act)
    {
        await _snapshots.WaitAsync(token).ConfigureAwait(false);
        try
        {
            await node.Raft.ReadBarrierAsync(token).ConfigureAwait(false);
            MetadataState state = node.Raft.Metadata;
            NamespaceSnapshot? snapshot = state.Snapshots.GetValueOrDefault(name);
            if (snapshot is null && mustExist)
            {
                await NoSuchSnapshotAsync(http, name, state).ConfigureAwait(false);
                return;
            }

            await act(state, snapshot).ConfigureAwait(false);
        }
        finally
        {
            _snapshots.Release();
        }
    }

    /// <summary>The valid snapshot name <paramref name="name"/>, or null after answering 400.</summary>
    private static async Task<string?> SnapshotNameAsync(HttpContext http, string? name, AdminError? typeError, string field)
    {
        if (typeError is not null)
        {
            await WriteAsync(http, 400, typeError, Json.AdminError).ConfigureAwait(false);
            return null;
        }

        string? invalid = name is null ? $"'{field}' is required" : NamespaceSnapshot.Invalid(name);
        if (invalid is not null)
        {
            await ErrorAsync(http, 400, name is null ? invalid : $"'{name}' is not a snapshot name: {invalid}", "e.g. {\"name\": \"snapshot-20241201_143000\"}").ConfigureAwait(false);
            return null;
        }

        return name;
    }

    private static Task NoSuchSnapshotAsync(HttpContext http, string name, MetadataState state) =>
        ErrorAsync(http, 404, $"no snapshot named {name}", state.Snapshots.IsEmpty ? "there are no snapshots; POST /admin/snapshot {\"name\": ...} takes one" : $"snapshots: {string.Join(", ", state.Snapshots.Keys)}");

    private static SnapshotInfo Describe(NamespaceSnapshot snapshot, MetadataState? state = null) =>
        new(snapshot.Name, DateTimeOffset.FromUnixTimeMilliseconds(snapshot.CreatedUnixMs), snapshot.Index, snapshot.Buckets.Count, snapshot.Objects, snapshot.Bytes, state is null ? 0 : NamespaceSnapshot.Pinned(state, [snapshot]).Bytes);

    private static async Task<byte[]> ReadBodyAsync(HttpContext http)
    {
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[4096];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > AdminBody.BytesMax)
            {
                break; // over the limit: refused (413) without reading on
            }
        }

        return buffer.ToArray();
    }

    private static Task UnavailableAsync(HttpContext http, string error, string detail)
    {
        http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return ErrorAsync(http, 503, error, detail);
    }

    private static Task ErrorAsync(HttpContext http, int status, string error, string? detail) =>
        WriteAsync(http, status, new AdminError(error, detail), Json.AdminError);

    /// <summary>Answers with <paramref name="value"/> as JSON and a final newline, so a curl at a prompt ends its line.</summary>
    private static Task WriteAsync<T>(HttpContext http, int status, T value, JsonTypeInfo<T> type)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        byte[] body = [.. JsonSerializer.SerializeToUtf8Bytes(value, type), (byte)'\n'];
        return http.Response.Body.WriteAsync(body, http.RequestAborted).AsTask();
    }
}
