// Owns: the S3 API on the API port, path-style: authentication (SigV4 header or presigned, or a bearer
// key), the role check, and the operations built so far (buckets: list, create, head, delete,
// location; listing objects). Anything else answers NotImplemented in S3's XML, so clients fail clearly, not oddly.
// Strong consistency (cluster.json) puts a Raft read barrier before every read of the metadata; writes
// go through the leader (MetadataProposer) and are read back from this node's state to choose the answer.
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Auth;
using O3Storage.Node.Consensus;
using O3Storage.Node.Data;
using O3Storage.Node.Hosting;
using O3Storage.Node.S3;

namespace O3Storage.Node.Api;

internal sealed partial class S3Endpoints(NodeContext node, MetadataProposer proposer, DataPath data, TimeProvider time)
{
    /// <summary>How long a request waits for the cluster (a read barrier, a commit) before answering 503: a node without quorum must not hang its clients.</summary>
    public static readonly TimeSpan ClusterWaitTimeout = TimeSpan.FromSeconds(5);

    public void Map(IEndpointRouteBuilder routes) => routes.MapFallback("{**path}", (RequestDelegate)MeasuredAsync);

    /// <summary>Where <see cref="HandleAsync"/> leaves the operation it routed to, for the latency metric.</summary>
    private const string OperationItem = "o3storage.s3.operation";

    /// <summary>Every S3 request, timed to the end of its answer, by operation and status code.</summary>
    private async Task MeasuredAsync(HttpContext http)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        int? failed = null;
        try
        {
            await HandleAsync(http).ConfigureAwait(false);
        }
        catch
        {
            // ASP.NET answers an escaped exception with a 500 (or cuts a started answer): count it so.
            failed = StatusCodes.Status500InternalServerError;
            throw;
        }
        finally
        {
            string operation = http.Items.TryGetValue(OperationItem, out object? routed) && routed is S3Operation known ? known.ToString() : nameof(S3Operation.NotImplemented);
            node.Metrics.S3Request(operation, failed ?? http.Response.StatusCode, started);
        }
    }

    private async Task HandleAsync(HttpContext http)
    {
        string requestId = StartRequest(http);
        string rawTarget = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (http.Request.Path + http.Request.QueryString).ToString();
        int question = rawTarget.IndexOf('?');
        string rawPath = question < 0 ? rawTarget : rawTarget[..question];
        string rawQuery = question < 0 ? string.Empty : rawTarget[(question + 1)..];
        string path = SigV4.PercentDecode(rawPath);
        var query = SigV4.ParseQuery(rawQuery).GroupBy(p => p.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
        var queryNames = query.Keys.ToHashSet(StringComparer.Ordinal);
        S3Route route = S3Route.Parse(http.Request.Method, path, queryNames, http.Request.Headers.ContainsKey("x-amz-copy-source"));
        http.Items[OperationItem] = route.Operation;

        S3Error? error = Authorize(http, rawPath, rawQuery, route, out ApiKey? key, out SigV4Context? signature) ?? Unavailable(http, route);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        deadline.CancelAfter(ClusterWaitTimeout);
        CancellationToken token = deadline.Token;
        try
        {
            error ??= route.Operation switch
            {
                S3Operation.ListBuckets => await ListBucketsAsync(http, query, key, token).ConfigureAwait(false),
                S3Operation.CreateBucket => await CreateBucketAsync(http, route.Bucket, token).ConfigureAwait(false),
                S3Operation.HeadBucket or S3Operation.GetBucketLocation => await BucketInfoAsync(http, route, token).ConfigureAwait(false),
                S3Operation.DeleteBucket => await DeleteBucketAsync(http, route.Bucket, token).ConfigureAwait(false),
                S3Operation.ListObjectsV1 or S3Operation.ListObjectsV2 or S3Operation.ListObjectVersions => await ListObjectsAsync(http, route, query, key, token).ConfigureAwait(false),
                S3Operation.GetBucketVersioning => await GetBucketVersioningAsync(http, route, token).ConfigureAwait(false),
                S3Operation.PutObject => await PutObjectAsync(http, route, signature, token).ConfigureAwait(false),
                S3Operation.GetObject or S3Operation.HeadObject => await GetObjectAsync(http, route, token).ConfigureAwait(false),
                S3Operation.GetObjectTagging => await GetObjectTaggingAsync(http, route, token).ConfigureAwait(false),
                S3Operation.DeleteObject => await DeleteObjectAsync(http, route, token).ConfigureAwait(false),
                S3Operation.DeleteObjects => await DeleteObjectsAsync(http, route, token).ConfigureAwait(false),
                S3Operation.CopyObject => await CopyObjectAsync(http, route, token).ConfigureAwait(false),
                S3Operation.CreateMultipartUpload => await CreateMultipartUploadAsync(http, route, token).ConfigureAwait(false),
                S3Operation.UploadPart => await UploadPartAsync(http, route, query, signature, token).ConfigureAwait(false),
                S3Operation.UploadPartCopy => await UploadPartCopyAsync(http, route, query, token).ConfigureAwait(false),
                S3Operation.CompleteMultipartUpload => await CompleteMultipartUploadAsync(http, route, query, token).ConfigureAwait(false),
                S3Operation.AbortMultipartUpload => await AbortMultipartUploadAsync(http, route, query, token).ConfigureAwait(false),
                S3Operation.ListParts => await ListPartsAsync(http, route, query, key, token).ConfigureAwait(false),
                S3Operation.ListMultipartUploads => await ListMultipartUploadsAsync(http, route, query, key, token).ConfigureAwait(false),
                _ => new S3Error("NotImplemented", 501, $"{(route.Operation == S3Operation.NotImplemented ? $"{http.Request.Method} {path}" : route.Operation.ToString())} is not implemented by this node yet"),
            };
        }
        catch (ProposeException e)
        {
            error = new S3Error("ServiceUnavailable", 503, e.Message);
        }
        catch (Exception e) when (!http.RequestAborted.IsCancellationRequested && !http.Response.HasStarted
            && e is OperationCanceledException or DotNext.Net.Cluster.Consensus.Raft.QuorumUnreachableException or DotNext.Net.Cluster.MemberUnavailableException or InvalidOperationException)
        {
            error = new S3Error("ServiceUnavailable", 503, $"the cluster did not answer within {ClusterWaitTimeout.TotalSeconds:0} s (no leader or no quorum); retry");
        }

        if (error is not null)
        {
            if (http.Response.HasStarted)
            {
                http.Abort(); // mid-body: cutting the connection is the only way to tell the client
                return;
            }

            await WriteErrorAsync(http, error, path, requestId).ConfigureAwait(false);
        }
    }

    /// <summary>A 503 (with Retry-After) when this node was removed, or when the cluster is in maintenance and the request writes; else null.</summary>
    private S3Error? Unavailable(HttpContext http, S3Route route)
    {
        if (node.Lifecycle.IsRemoved)
        {
            return new S3Error("ServiceUnavailable", 503, "this node was removed from the cluster and serves nothing; use another node");
        }

        if (node.Raft.Metadata.Maintenance is not { } mode || S3Route.IsRead(route.Operation) || route.Operation == S3Operation.NotImplemented)
        {
            return null;
        }

        http.Response.Headers.RetryAfter = MaintenanceRetryAfterSeconds;
        return new S3Error("ServiceUnavailable", 503, $"the cluster is in maintenance mode since {DateTimeOffset.FromUnixTimeMilliseconds(mode.SinceUnixMs):u} ({mode.Reason}): writes are refused, reads work");
    }

    /// <summary>Maintenance lasts minutes: clients that honour Retry-After come back in a minute, not at once.</summary>
    private const string MaintenanceRetryAfterSeconds = "60";

    /// <summary>Gives the request its id (the <c>x-amz-request-id</c> header, also in error bodies) and returns it.</summary>
    public static string StartRequest(HttpContext http)
    {
        string requestId = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        http.Response.Headers["x-amz-request-id"] = requestId;
        return requestId;
    }

    /// <summary>Answers with an S3 error: its status, and the XML body unless the request is a HEAD.</summary>
    public static async Task WriteErrorAsync(HttpContext http, S3Error error, string resource, string requestId)
    {
        http.Response.StatusCode = error.Status;
        http.Response.ContentLength = null;
        if (!HttpMethods.IsHead(http.Request.Method))
        {
            byte[] xml = S3Xml.Error(error, resource, requestId);
            http.Response.ContentType = S3Xml.ContentType;
            http.Response.ContentLength = xml.Length;
            await http.Response.Body.WriteAsync(xml, http.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>Who is asking, and whether they may: null when allowed, with <paramref name="key"/> null only when authentication is off.</summary>
    private S3Error? Authorize(HttpContext http, string rawPath, string rawQuery, S3Route route, out ApiKey? key, out SigV4Context? signature)
    {
        key = null;
        signature = null;
        if (node.Keys is not { } keys)
        {
            return null; // authentication is off (logged at start, shown on /health)
        }

        var request = new SigV4Request(http.Request.Method, rawPath, rawQuery, name => http.Request.Headers.TryGetValue(name, out var values) ? values.ToString() : null);
        string authorization = http.Request.Headers.Authorization.ToString();
        if (SigV4.IsSigned(request))
        {
            SigV4Context? context = SigV4.Verify(request, keys, time.GetUtcNow(), out SigV4Error? refused);
            if (context is null)
            {
                return new S3Error(refused!.Code, refused.Status, refused.Message);
            }

            key = context.Key;
            signature = context;
        }
        else if (authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            key = keys.FindBySecret(authorization[7..]);
            if (key is null)
            {
                return S3Error.AccessDenied("the bearer key is not in this cluster's api-keys.txt");
            }
        }
        else
        {
            return S3Error.AccessDenied("anonymous requests are not allowed: sign them with a key from api-keys.txt (see `o3storage keys`)");
        }

        return S3Route.Allows(key.Role, route.Operation)
            ? null
            : S3Error.AccessDenied($"a {ApiKeys.RoleName(key.Role)} key may not perform {route.Operation}");
    }

    /// <summary>The metadata to answer from: after a read barrier under strong consistency, so it holds every committed write.</summary>
    private async Task<MetadataState> ReadStateAsync(CancellationToken token)
    {
        if (node.Raft.Metadata.Settings?.Consistency != ConsistencyLevel.Eventual)
        {
            await node.Raft.ReadBarrierAsync(token).ConfigureAwait(false);
        }

        return node.Raft.Metadata;
    }

    private async Task<S3Error?> ListBucketsAsync(HttpContext http, Dictionary<string, string> query, ApiKey? key, CancellationToken token)
    {
        int maxBuckets = BucketListing.MaxBucketsLimit;
        if (query.TryGetValue("max-buckets", out string? maxText)
            && (!int.TryParse(maxText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out maxBuckets) || maxBuckets is < 1 or > BucketListing.MaxBucketsLimit))
        {
            return S3Error.InvalidArgument($"max-buckets must be an integer from 1 to {BucketListing.MaxBucketsLimit}");
        }

        string? prefix = query.GetValueOrDefault("prefix");
        MetadataState state = await ReadStateAsync(token).ConfigureAwait(false);
        if (BucketListing.Page(state.Buckets.Values.Select(b => b.Info), prefix ?? string.Empty, query.GetValueOrDefault("continuation-token"), maxBuckets) is not { } page)
        {
            return S3Error.InvalidArgument("the continuation token is not one this cluster issued");
        }

        await WriteXmlAsync(http, S3Xml.ListBuckets(page.Buckets, key?.AccessKeyId ?? "anonymous", prefix, page.ContinuationToken)).ConfigureAwait(false);
        return null;
    }

    private async Task<S3Error?> CreateBucketAsync(HttpContext http, string bucket, CancellationToken token)
    {
        if (S3Names.CheckBucket(bucket) is { } invalid)
        {
            return invalid;
        }

        await DrainAsync(http).ConfigureAwait(false); // an optional CreateBucketConfiguration: one region here
        if ((await ReadStateAsync(token).ConfigureAwait(false)).Buckets.ContainsKey(bucket))
        {
            return S3Error.BucketAlreadyOwnedByYou(bucket);
        }

        await proposer.ProposeAsync(new CreateBucket(bucket, time.GetUtcNow().ToUnixTimeMilliseconds()), token).ConfigureAwait(false);
        http.Response.Headers.Location = "/" + bucket;
        return null;
    }

    private async Task<S3Error?> BucketInfoAsync(HttpContext http, S3Route route, CancellationToken token)
    {
        if (!(await ReadStateAsync(token).ConfigureAwait(false)).Buckets.ContainsKey(route.Bucket))
        {
            return S3Error.NoSuchBucket(route.Bucket);
        }

        http.Response.Headers["x-amz-bucket-region"] = S3Xml.Region;
        if (route.Operation == S3Operation.GetBucketLocation)
        {
            await WriteXmlAsync(http, S3Xml.BucketLocation()).ConfigureAwait(false);
        }

        return null;
    }

    private async Task<S3Error?> DeleteBucketAsync(HttpContext http, string bucket, CancellationToken token)
    {
        MetadataState state = await ReadStateAsync(token).ConfigureAwait(false);
        if (!state.Buckets.TryGetValue(bucket, out BucketState? existing))
        {
            return S3Error.NoSuchBucket(bucket);
        }

        if (!existing.Objects.IsEmpty)
        {
            return S3Error.BucketNotEmpty(bucket);
        }

        await proposer.ProposeAsync(new DeleteBucket(bucket), token).ConfigureAwait(false);
        if (node.Raft.Metadata.Buckets.ContainsKey(bucket))
        {
            return S3Error.BucketNotEmpty(bucket); // an object arrived before the delete committed
        }

        http.Response.StatusCode = StatusCodes.Status204NoContent;
        return null;
    }

    private async Task<S3Error?> GetBucketVersioningAsync(HttpContext http, S3Route route, CancellationToken token)
    {
        MetadataState state = await ReadStateAsync(token).ConfigureAwait(false);
        if (!state.Buckets.ContainsKey(route.Bucket))
        {
            return S3Error.NoSuchBucket(route.Bucket);
        }

        await WriteXmlAsync(http, S3Xml.VersioningNeverEnabled()).ConfigureAwait(false);
        return null;
    }

    /// <summary>ListObjects v1 and v2, and ListObjectVersions (each object its one version while buckets keep no versions).</summary>
    private async Task<S3Error?> ListObjectsAsync(HttpContext http, S3Route route, Dictionary<string, string> query, ApiKey? key, CancellationToken token)
    {
        bool v2 = route.Operation == S3Operation.ListObjectsV2;
        bool versions = route.Operation == S3Operation.ListObjectVersions;
        int maxKeys = ObjectListing.MaxKeysLimit;
        if (query.TryGetValue("max-keys", out string? maxText) && !int.TryParse(maxText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out maxKeys))
        {
            return S3Error.InvalidArgument("max-keys must be a non-negative integer");
        }

        string? encoding = query.GetValueOrDefault("encoding-type");
        if (encoding is not (null or "url"))
        {
            return S3Error.InvalidArgument("encoding-type may only be 'url'");
        }

        if (versions && query.GetValueOrDefault("version-id-marker") is { Length: > 0 } versionIdMarker)
        {
            if (string.IsNullOrEmpty(query.GetValueOrDefault("key-marker")))
            {
                return S3Error.InvalidArgument("a version-id-marker cannot be given without a key-marker");
            }

            if (versionIdMarker != S3Xml.NullVersionId)
            {
                return S3Error.InvalidArgument($"version id '{versionIdMarker}' is not one of this bucket's (it keeps no versions: every object's is 'null')");
            }
        }

        string prefix = query.GetValueOrDefault("prefix", string.Empty);
        string? delimiter = query.GetValueOrDefault("delimiter");
        string? marker = v2 ? null : query.GetValueOrDefault(versions ? "key-marker" : "marker");
        var request = new ListRequest(
            prefix,
            delimiter,
            v2 ? query.GetValueOrDefault("start-after") : marker,
            v2 ? query.GetValueOrDefault("continuation-token") : string.IsNullOrEmpty(marker) ? null : ObjectListing.ResumeAfterMarker(marker, prefix, delimiter),
            maxKeys);
        MetadataState state = await ReadStateAsync(token).ConfigureAwait(false);
        if (!state.Buckets.TryGetValue(route.Bucket, out BucketState? bucket))
        {
            return S3Error.NoSuchBucket(route.Bucket);
        }

        if (ObjectListing.List(bucket.Objects, request) is not { } page)
        {
            return S3Error.InvalidArgument("the continuation token is not one this cluster issued");
        }

        // S3 names each entry's owner in v1 always, in v2 only with fetch-owner=true; the owner is the caller's key (no per-bucket owners yet).
        string owner = key?.AccessKeyId ?? "anonymous";
        await WriteXmlAsync(http, route.Operation switch
        {
            S3Operation.ListObjectsV2 => S3Xml.ListObjectsV2(route.Bucket, request, page, encoding == "url", query.GetValueOrDefault("fetch-owner") == "true" ? owner : null),
            S3Operation.ListObjectVersions => S3Xml.ListObjectVersions(route.Bucket, request, query.GetValueOrDefault("version-id-marker", string.Empty), page, encoding == "url", owner),
            _ => S3Xml.ListObjectsV1(route.Bucket, request, page, encoding == "url", owner),
        }).ConfigureAwait(false);
        return null;
    }

    private static Task WriteXmlAsync(HttpContext http, byte[] xml)
    {
        http.Response.ContentType = S3Xml.ContentType;
        http.Response.ContentLength = xml.Length;
        return http.Response.Body.WriteAsync(xml, http.RequestAborted).AsTask();
    }

    private static async Task DrainAsync(HttpContext http)
    {
        byte[] buffer = new byte[4096];
        for (long total = 0; total < 64 * 1024;)
        {
            int read = await http.Request.Body.ReadAsync(buffer, http.RequestAborted).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            total += read;
        }
    }
}
