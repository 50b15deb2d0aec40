// Owns: the admin calls behind `o3ctl backup` and `o3ctl restore`. A snapshot's contents are read on
// whichever node is asked (every member holds the snapshots, and a snapshot never changes): its buckets,
// its objects a page at a time, and an object's bytes, each blob CRC-checked before it goes out, from
// the nearest replica, as GetObject serves them. An import writes one object with the metadata a backup
// recorded (ETag, content type, user metadata, last-modified) once its bytes match the SHA-256 the backup
// recorded, so a restored cluster answers as the original did; a bucket is imported with its creation time.
// Faults: an import whose bytes are short or do not match commits nothing (its blobs are deleted); one
// that finds the same object already there (same size and ETag) answers "exists" and stores nothing, so
// an interrupted restore can run again.
using System.Globalization;
using Microsoft.AspNetCore.Http;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;
using O3Storage.Node.Api;
using O3Storage.Node.Consensus;
using O3Storage.Node.Data;
using O3Storage.Node.Diagnostics;
using O3Storage.Node.S3;

namespace O3Storage.Node.Admin;

internal sealed partial class AdminEndpoints
{
    /// <summary>Most objects one page of GET /admin/snapshots/NAME/objects lists.</summary>
    public const int ObjectPageMax = 1000;

    /// <summary>Request headers of PUT /admin/import/object beside Content-Type and x-amz-meta-*.</summary>
    public const string ImportSha256Header = "x-o3-sha256";

    public const string ImportETagHeader = "x-o3-etag";

    public const string ImportLastModifiedHeader = "x-o3-last-modified-ms";

    private const string ObjectsSuffix = "/objects";
    private const string ObjectSuffix = "/object";
    private const int ETagLengthMax = 128;

    /// <summary>
    /// The name a path gives a template's {name} segment (one segment, unescaped), an empty string for a
    /// template without one that the path equals, or null when the path is not the template's.
    /// </summary>
    private static string? PathName(string template, string path)
    {
        int at = template.IndexOf(NameSegment, StringComparison.Ordinal);
        if (at < 0)
        {
            return string.Equals(template, path, StringComparison.Ordinal) ? string.Empty : null;
        }

        string prefix = template[..at];
        string suffix = template[(at + NameSegment.Length)..];
        if (path.Length <= prefix.Length + suffix.Length || !path.StartsWith(prefix, StringComparison.Ordinal) || !path.EndsWith(suffix, StringComparison.Ordinal))
        {
            return null;
        }

        string name = path[prefix.Length..^suffix.Length];
        return name.Contains('/', StringComparison.Ordinal) ? null : Uri.UnescapeDataString(name);
    }

    /// <summary>A call served here: authorized (a streamed body is not hashed: bearer or UNSIGNED-PAYLOAD), then handled with the request's token.</summary>
    private async Task HandleLocalAsync(HttpContext http, Route route)
    {
        if (Authorize(http, []) is { } refused)
        {
            await ErrorAsync(http, 403, refused, "admin calls need a key of role admin from api-keys.txt, as a bearer token (Authorization: Bearer KEY) or a SigV4 signature with UNSIGNED-PAYLOAD").ConfigureAwait(false);
            return;
        }

        if (lifecycle.IsRemoved)
        {
            await ErrorAsync(http, 503, $"{node.NodeId} was removed from the cluster", await lifecycle.Removed.ConfigureAwait(false)).ConfigureAwait(false);
            return;
        }

        try
        {
            await route.Handle(http, AdminBody.Empty, http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (!http.RequestAborted.IsCancellationRequested && !http.Response.HasStarted
            && e is OperationCanceledException or ProposeException or CommitOutcomeUnknownException or DotNext.Net.Cluster.Consensus.Raft.QuorumUnreachableException)
        {
            await UnavailableAsync(http, "the cluster did not answer", e is OperationCanceledException ? $"no read barrier or commit within {ClusterWaitTimeout.TotalSeconds:0} s (no quorum?)" : e.Message).ConfigureAwait(false);
        }
    }

    private async Task DescribeSnapshotAsync(HttpContext http, AdminBody body, CancellationToken token)
    {
        if (await FindSnapshotAsync(http, string.Empty, token).ConfigureAwait(false) is not { } snapshot)
        {
            return;
        }

        SnapshotBucket[] buckets = [.. snapshot.Buckets.Values.Select(b => new SnapshotBucket(
            b.Info.Name, DateTimeOffset.FromUnixTimeMilliseconds(b.Info.CreatedUnixMs), b.Objects.Count, b.Objects.Sum(v => v.SizeBytes)))];
        await WriteAsync(http, 200, new SnapshotContents(Describe(snapshot), buckets), Json.SnapshotContents).ConfigureAwait(false);
    }

    private async Task ListSnapshotObjectsAsync(HttpContext http, AdminBody body, CancellationToken token)
    {
        if (await FindSnapshotAsync(http, ObjectsSuffix, token).ConfigureAwait(false) is not { } snapshot
            || await SnapshotBucketAsync(http, snapshot).ConfigureAwait(false) is not { } bucket)
        {
            return;
        }

        string after = http.Request.Query["after"].ToString();
        int limit = ObjectPageMax;
        if (http.Request.Query["limit"].ToString() is { Length: > 0 } text
            && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > ObjectPageMax))
        {
            await ErrorAsync(http, 400, $"'limit' is a number from 1 to {ObjectPageMax}, not '{text}'", null).ConfigureAwait(false);
            return;
        }

        ObjectVersion[] page = [.. bucket.Objects.From(after, inclusive: after.Length == 0).Take(limit + 1)];
        bool truncated = page.Length > limit;
        SnapshotObject[] objects = [.. page.Take(limit).Select(v => new SnapshotObject(
            v.Key, v.SizeBytes, v.ETag, v.ContentType, DateTimeOffset.FromUnixTimeMilliseconds(v.CreatedUnixMs), v.CreatedUnixMs,
            v.UserMetadata.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal)))];
        await WriteAsync(http, 200, new SnapshotObjectPage(snapshot.Name, bucket.Info.Name, objects, truncated, truncated ? objects[^1].Key : null), Json.SnapshotObjectPage).ConfigureAwait(false);
    }

    private async Task ReadSnapshotObjectAsync(HttpContext http, AdminBody body, CancellationToken token)
    {
        if (await FindSnapshotAsync(http, ObjectSuffix, token).ConfigureAwait(false) is not { } snapshot
            || await SnapshotBucketAsync(http, snapshot).ConfigureAwait(false) is not { } bucket)
        {
            return;
        }

        string key = http.Request.Query["key"].ToString();
        if (bucket.Objects.Find(key) is not { } version)
        {
            await ErrorAsync(http, 404, $"snapshot {snapshot.Name} has no object '{key}' in bucket {bucket.Info.Name}", "GET /admin/snapshots/NAME/objects?bucket=B lists them").ConfigureAwait(false);
            return;
        }

        IHeaderDictionary headers = http.Response.Headers;
        headers.ETag = version.ETag;
        headers.LastModified = DateTimeOffset.FromUnixTimeMilliseconds(version.CreatedUnixMs).ToString("R", CultureInfo.InvariantCulture);
        headers[ImportLastModifiedHeader] = version.CreatedUnixMs.ToString(CultureInfo.InvariantCulture);
        foreach ((string name, string value) in version.UserMetadata)
        {
            headers["x-amz-meta-" + name] = MimeWords.Encode(value);
        }

        http.Response.ContentType = version.ContentType;
        http.Response.ContentLength = version.SizeBytes;
        try
        {
            // A bad replica is only logged here: repair works on the namespace's versions, and this one may be the snapshot's alone.
            await data.Reader.CopyAsync(
                version, 0, version.SizeBytes, data.ReadOrder(node.Raft.Metadata, version), () => http.Response.StartAsync(http.RequestAborted), http.Response.Body,
                bad => NodeLog.BadReplica(logger, bad.NodeId, new Storage.BlobId(bad.Blob.BlobId).ToString(), bucket.Info.Name, key, bad.Problem), http.RequestAborted).ConfigureAwait(false);
        }
        catch (ObjectUnreadableException e) when (!http.Response.HasStarted)
        {
            http.Response.ContentLength = null;
            await UnavailableAsync(http, $"no replica of {bucket.Info.Name}/{key} in snapshot {snapshot.Name} could serve it now", e.Message).ConfigureAwait(false);
        }
    }

    /// <summary>The snapshot the path names (its {name} followed by <paramref name="suffix"/>), or null after answering 400 or 404.</summary>
    private async Task<NamespaceSnapshot?> FindSnapshotAsync(HttpContext http, string suffix, CancellationToken token)
    {
        string path = http.Request.Path.Value!.TrimEnd('/');
        if (await SnapshotNameAsync(http, PathName(SnapshotPath + NameSegment + suffix, path), null, "the path's name").ConfigureAwait(false) is not { } name)
        {
            return null;
        }

        if (!node.Raft.Metadata.Snapshots.ContainsKey(name))
        {
            // Taken a moment ago through another node: this one may not have applied it yet.
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
            deadline.CancelAfter(ClusterWaitTimeout);
            await node.Raft.ReadBarrierAsync(deadline.Token).ConfigureAwait(false);
        }

        MetadataState state = node.Raft.Metadata;
        if (state.Snapshots.GetValueOrDefault(name) is not { } snapshot)
        {
            await NoSuchSnapshotAsync(http, name, state).ConfigureAwait(false);
            return null;
        }

        return snapshot;
    }

    /// <summary>The snapshot's bucket named by ?bucket=, or null after answering 400 or 404.</summary>
    private static async Task<BucketState?> SnapshotBucketAsync(HttpContext http, NamespaceSnapshot snapshot)
    {
        string name = http.Request.Query["bucket"].ToString();
        if (name.Length == 0)
        {
            await ErrorAsync(http, 400, "'bucket' is required", $"?bucket=NAME; snapshot {snapshot.Name} holds {string.Join(", ", snapshot.Buckets.Keys)}").ConfigureAwait(false);
            return null;
        }

        if (!snapshot.Buckets.TryGetValue(name, out BucketState? bucket))
        {
            await ErrorAsync(http, 404, $"snapshot {snapshot.Name} has no bucket {name}", snapshot.Buckets.IsEmpty ? "it holds no buckets" : $"it holds {string.Join(", ", snapshot.Buckets.Keys)}").ConfigureAwait(false);
            return null;
        }

        return bucket;
    }

    private async Task ImportBucketAsync(HttpContext http, AdminBody body, CancellationToken token)
    {
        string? name = body.String("name", out AdminError? bad);
        string? created = body.String("created_at", out AdminError? badCreated);
        if ((bad ?? badCreated) is { } typeError)
        {
            await WriteAsync(http, 400, typeError, Json.AdminError).ConfigureAwait(false);
            return;
        }

        if (name is null || S3Names.CheckBucket(name) is not null)
        {
            await ErrorAsync(http, 400, name is null ? "'name' is required" : S3Names.CheckBucket(name)!.Message, "e.g. {\"name\": \"photos\", \"created_at\": \"2026-12-01T14:30:00Z\"}").ConfigureAwait(false);
            return;
        }

        DateTimeOffset createdAt = time.GetUtcNow();
        if (created is not null && !DateTimeOffset.TryParse(created, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out createdAt))
        {
            await ErrorAsync(http, 400, $"'created_at' is not a time: '{created}'", "ISO 8601, e.g. 2026-12-01T14:30:00Z").ConfigureAwait(false);
            return;
        }

        await node.Raft.ReadBarrierAsync(token).ConfigureAwait(false);
        if (node.Raft.Metadata.Buckets.TryGetValue(name, out BucketState? existing))
        {
            await WriteAsync(http, 200, new ImportBucketResponse(name, "exists", DateTimeOffset.FromUnixTimeMilliseconds(existing.Info.CreatedUnixMs), existing.Objects.Count), Json.ImportBucketResponse).ConfigureAwait(false);
            return;
        }

        await proposer.ProposeAsync(new CreateBucket(name, createdAt.ToUnixTimeMilliseconds()), token).ConfigureAwait(false);
        BucketState made = node.Raft.Metadata.Buckets[name];
        await WriteAsync(http, 200, new ImportBucketResponse(name, "created", DateTimeOffset.FromUnixTimeMilliseconds(made.Info.CreatedUnixMs), made.Objects.Count), Json.ImportBucketResponse).ConfigureAwait(false);
    }

    private async Task ImportObjectAsync(HttpContext http, AdminBody body, CancellationToken token)
    {
        IHeaderDictionary headers = http.Request.Headers;
        string bucket = http.Request.Query["bucket"].ToString();
        string key = http.Request.Query["key"].ToString();
        string etag = headers[ImportETagHeader].ToString();
        string sha256Text = headers[ImportSha256Header].ToString();
        string lastModifiedText = headers[ImportLastModifiedHeader].ToString();
        long lastModified = time.GetUtcNow().ToUnixTimeMilliseconds();
        byte[]? sha256 = sha256Text.Length == 64 && sha256Text.All(char.IsAsciiHexDigit) ? Convert.FromHexString(sha256Text) : null;
        S3Error? badMetadata = S3Endpoints.ReadUserMetadata(headers, out System.Collections.Immutable.ImmutableArray<KeyValuePair<string, string>> userMetadata);
        string? problem = bucket.Length == 0 ? "'bucket' is required"
            : S3Names.CheckKey(key) is { } badKey ? badKey.Message
            : http.Request.ContentLength is not { } ? "an import needs a Content-Length"
            : sha256 is null ? $"{ImportSha256Header} must be the body's SHA-256 in 64 hex digits"
            : etag.Length is < 2 or > ETagLengthMax || etag[0] != '"' || etag[^1] != '"' || etag[1..^1].Any(c => c is '"' or < ' ' or > '~') ? $"{ImportETagHeader} must be the object's ETag, quoted, as S3 shows it"
            : lastModifiedText.Length > 0 && (!long.TryParse(lastModifiedText, NumberStyles.None, CultureInfo.InvariantCulture, out lastModified) || lastModified > 253402300799999)
                ? $"{ImportLastModifiedHeader} is milliseconds since 1970, not '{lastModifiedText}'"
            : badMetadata?.Message;
        if (problem is not null)
        {
            await ErrorAsync(http, 400, problem, "PUT /admin/import/object?bucket=B&key=K with the bytes, Content-Length, Content-Type, x-amz-meta-*, x-o3-etag, x-o3-sha256 and x-o3-last-modified-ms (docs/o3ctl.md)").ConfigureAwait(false);
            return;
        }

        long length = http.Request.ContentLength!.Value;
        using (var barrier = CancellationTokenSource.CreateLinkedTokenSource(token))
        {
            barrier.CancelAfter(ClusterWaitTimeout);
            await node.Raft.ReadBarrierAsync(barrier.Token).ConfigureAwait(false);
        }

        MetadataState state = node.Raft.Metadata;
        if (!state.Buckets.ContainsKey(bucket))
        {
            await ErrorAsync(http, 404, $"no bucket {bucket}", "import the bucket first: POST /admin/import/bucket {\"name\": ...}").ConfigureAwait(false);
            return;
        }

        if (state.FindObject(bucket, key) is { } present && present.ETag == etag && present.SizeBytes == length)
        {
            await WriteAsync(http, 200, new ImportObjectResponse(bucket, key, "exists", present.SizeBytes, present.ETag, null, present.Replicas), Json.ImportObjectResponse).ConfigureAwait(false);
            return;
        }

        StoredObject stored;
        try
        {
            stored = await data.StoreAsync(state, bucket, key, http.Request.Body, length, null, sha256, token).ConfigureAwait(false);
        }
        catch (Exception e) when (ImportBodyError(e) is var (status, error))
        {
            await ErrorAsync(http, status, error, null).ConfigureAwait(false);
            return;
        }

        var version = new ObjectVersion(key, 0, stored.SizeBytes, etag, headers.ContentType.ToString() is { Length: > 0 } type ? type : "binary/octet-stream",
            lastModified, userMetadata, stored.Blobs, stored.Replicas);
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(token))
        {
            deadline.CancelAfter(ClusterWaitTimeout);
            await proposer.ProposeAsync(new PutObject(bucket, version), deadline.Token).ConfigureAwait(false);
        }

        if (node.Raft.Metadata.FindObject(bucket, key) is not { } landed || landed.ETag != etag || landed.CreatedUnixMs != lastModified)
        {
            await ErrorAsync(http, 409, $"{bucket}/{key} did not land: the bucket was deleted or the key written while it was imported", "retry the import").ConfigureAwait(false);
            return;
        }

        await WriteAsync(http, 200, new ImportObjectResponse(bucket, key, "imported", landed.SizeBytes, landed.ETag, Convert.ToHexStringLower(stored.Sha256!), landed.Replicas), Json.ImportObjectResponse).ConfigureAwait(false);
    }

    /// <summary>The answer for a failure while an import's bytes were stored, or null to let it propagate.</summary>
    private static (int Status, string Error)? ImportBodyError(Exception e) => e switch
    {
        DigestMismatchException sha => (400, $"the body's SHA-256 is {Convert.ToHexStringLower(sha.Actual)}, not the {Convert.ToHexStringLower(sha.Expected)} the backup recorded: nothing was stored"),
        IncompleteBodyException short_ => (400, short_.Message),
        IOException io => (400, $"the body could not be read to its end: {io.Message}"),
        ReplicationException { Full: true } full => (507, full.Message),
        ReplicationException replication => (503, replication.Message),
        CommitDeadlineException slow => (408, slow.Message),
        _ => null,
    };
}
