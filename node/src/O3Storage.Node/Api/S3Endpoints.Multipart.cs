// Owns: S3 multipart uploads: create, upload part, complete, abort, list parts, list uploads. Uploads
// and their parts live in the replicated metadata, so every step may go to any node. A part's bytes are
// stored like an object's, on the placement of the upload's key; completing an upload commits an
// object version that strings the chosen parts' blobs together: no byte is copied.
// Faults: parts out of order, unknown, with the wrong ETag or (except the last) under 5 MiB are refused
// as S3 refuses them; parts that were uploaded but not chosen become garbage for the collector.
using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Auth;
using O3Storage.Node.Data;
using O3Storage.Node.S3;

namespace O3Storage.Node.Api;

internal sealed partial class S3Endpoints
{
    public const int PartNumberMax = 10_000;

    /// <summary>S3's smallest part, bar the last.</summary>
    public const long PartBytesMin = 5L << 20;

    private const int CompleteBodyBytesMax = 1 << 20;
    private const int ListLimit = 1000;

    private static S3Error NoSuchUpload(string uploadId) =>
        new("NoSuchUpload", 404, $"the upload '{uploadId}' does not exist: it was completed, aborted, or never started");

    private async Task<S3Error?> CreateMultipartUploadAsync(HttpContext http, S3Route route, CancellationToken token)
    {
        if (S3Names.CheckKey(route.Key) is { } badKey)
        {
            return badKey;
        }

        if (ReadUserMetadata(http.Request.Headers, out ImmutableArray<KeyValuePair<string, string>> userMetadata) is { } badMetadata)
        {
            return badMetadata;
        }

        await DrainAsync(http).ConfigureAwait(false);
        if (!(await ReadStateAsync(token).ConfigureAwait(false)).Buckets.ContainsKey(route.Bucket))
        {
            return S3Error.NoSuchBucket(route.Bucket);
        }

        string uploadId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var upload = new MultipartUpload(uploadId, route.Key, time.GetUtcNow().ToUnixTimeMilliseconds(), ContentTypeOf(http.Request.Headers), userMetadata, MultipartUpload.NoParts);
        await proposer.ProposeAsync(new CreateMultipartUpload(route.Bucket, upload), token).ConfigureAwait(false);
        if (FindUpload(node.Raft.Metadata, route.Bucket, uploadId) is null)
        {
            return S3Error.NoSuchBucket(route.Bucket);
        }

        await WriteXmlAsync(http, S3Xml.InitiateMultipartUpload(route.Bucket, route.Key, uploadId)).ConfigureAwait(false);
        return null;
    }

    private async Task<S3Error?> UploadPartAsync(HttpContext http, S3Route route, Dictionary<string, string> query, SigV4Context? signature, CancellationToken token)
    {
        if (ReadPartNumber(query, out int partNumber) is { } badNumber)
        {
            return badNumber;
        }

        string uploadId = query.GetValueOrDefault("uploadId", string.Empty);
        // This node's state first (no round trip); a read barrier only when the upload is not there yet.
        MultipartUpload? upload = FindUpload(node.Raft.Metadata, route.Bucket, uploadId)
            ?? FindUpload(await ReadStateAsync(token).ConfigureAwait(false), route.Bucket, uploadId);
        if (upload is null || upload.Key != route.Key)
        {
            return NoSuchUpload(uploadId);
        }

        (S3Error? bodyError, StoredObject? stored) = await StoreBodyAsync(http, route, signature).ConfigureAwait(false);
        if (bodyError is not null)
        {
            return bodyError;
        }

        (S3Error? gone, UploadedPart part) = await CommitPartAsync(http, route, uploadId, partNumber, stored!).ConfigureAwait(false);
        if (gone is not null)
        {
            return gone;
        }

        http.Response.Headers.ETag = part.ETag;
        return null;
    }

    /// <summary>
    /// UploadPartCopy: a byte range of an existing object becomes a part. The range is read from the
    /// source's replicas (checksum verified) and streamed into the writer as if a client had sent it, so
    /// the part gets its own MD5 ETag and lands on the destination key's placement.
    /// </summary>
    private async Task<S3Error?> UploadPartCopyAsync(HttpContext http, S3Route route, Dictionary<string, string> query, CancellationToken token)
    {
        if (ReadPartNumber(query, out int partNumber) is { } badNumber)
        {
            return badNumber;
        }

        string copySource = http.Request.Headers["x-amz-copy-source"].ToString();
        if (ParseCopySource(copySource) is not var (sourceBucket, sourceKey))
        {
            return S3Error.InvalidArgument("x-amz-copy-source must be /bucket/key (URL-encoded)");
        }

        if (NamesAnotherVersion(CopySourceVersion(copySource)))
        {
            return NoSuchVersion(sourceKey);
        }

        string uploadId = query.GetValueOrDefault("uploadId", string.Empty);
        await DrainAsync(http).ConfigureAwait(false);
        (S3Error? missing, MultipartUpload? upload) = await ReadUploadAsync(route, uploadId, token).ConfigureAwait(false);
        if (missing is not null)
        {
            return missing;
        }

        MetadataState state = node.Raft.Metadata;
        (S3Error? sourceError, ObjectVersion? found) = FindCopySource(state, sourceBucket, sourceKey, http.Request.Headers);
        if (sourceError is not null)
        {
            return sourceError;
        }

        ObjectVersion original = found!;

        (long offset, long count) = (0, original.SizeBytes);
        string range = http.Request.Headers["x-amz-copy-source-range"].ToString();
        if (range.Length > 0)
        {
            if (ParseRange(range, original.SizeBytes) is not (long first, long length, true) || range.Contains("=-", StringComparison.Ordinal) || range.EndsWith('-'))
            {
                return S3Error.InvalidArgument($"x-amz-copy-source-range must be bytes=first-last within the source's {original.SizeBytes} bytes");
            }

            (offset, count) = (first, length);
        }

        if (count > PutObjectBytesMax)
        {
            return new S3Error("InvalidRequest", 400, $"a copied part holds at most {PutObjectBytesMax} bytes; copy a range with x-amz-copy-source-range");
        }

        var pipe = new System.IO.Pipelines.Pipe(new System.IO.Pipelines.PipeOptions(pauseWriterThreshold: 2 * ObjectWriter.DefaultChunkBytes, resumeWriterThreshold: ObjectWriter.DefaultChunkBytes));
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        Task reading = CopyRangeAsync(original, offset, count, pipe.Writer, sourceBucket, stopReading.Token);
        StoredObject stored;
        try
        {
            stored = await data.StoreAsync(state, route.Bucket, route.Key, pipe.Reader.AsStream(), count, expectedMd5: null, expectedSha256: null, http.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ObjectUnreadableException || BodyError(e) is not null)
        {
            return e is ObjectUnreadableException ? new S3Error("ServiceUnavailable", 503, $"the copy source could not be read: {e.Message}") : BodyError(e);
        }
        finally
        {
            // Whatever happened, the reader stops and is awaited: it holds a pooled blob buffer.
            await stopReading.CancelAsync().ConfigureAwait(false);
            await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            await reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        (S3Error? gone, UploadedPart part) = await CommitPartAsync(http, route, upload!.UploadId, partNumber, stored).ConfigureAwait(false);
        if (gone is not null)
        {
            return gone;
        }

        await WriteXmlAsync(http, S3Xml.CopyResult("CopyPartResult", part.ETag, part.LastModifiedUnixMs)).ConfigureAwait(false);
        return null;
    }

    /// <summary>
    /// Commits a stored part (uploaded or copied); NoSuchUpload when the upload was completed or aborted
    /// while the part's bytes were stored (the collector then takes its blobs).
    /// </summary>
    private async Task<(S3Error? Error, UploadedPart Part)> CommitPartAsync(HttpContext http, S3Route route, string uploadId, int partNumber, StoredObject stored)
    {
        var part = new UploadedPart(partNumber, Md5ETag(stored.Md5), stored.SizeBytes, time.GetUtcNow().ToUnixTimeMilliseconds(), stored.Blobs, stored.Replicas);
        using CancellationTokenSource deadline = ClusterDeadline(http);
        await proposer.ProposeAsync(new PutPart(route.Bucket, uploadId, part), deadline.Token).ConfigureAwait(false);
        return (FindUpload(node.Raft.Metadata, route.Bucket, uploadId) is null ? NoSuchUpload(uploadId) : null, part);
    }

    private static S3Error? ReadPartNumber(Dictionary<string, string> query, out int partNumber) =>
        int.TryParse(query.GetValueOrDefault("partNumber"), NumberStyles.None, CultureInfo.InvariantCulture, out partNumber) && partNumber is >= 1 and <= PartNumberMax
            ? null
            : S3Error.InvalidArgument($"partNumber must be an integer from 1 to {PartNumberMax}");

    /// <summary>Streams a range of <paramref name="version"/> into <paramref name="target"/>, completing it with the outcome.</summary>
    private async Task CopyRangeAsync(ObjectVersion version, long offset, long count, System.IO.Pipelines.PipeWriter target, string bucket, CancellationToken token)
    {
        try
        {
            await using Stream sink = target.AsStream(leaveOpen: true);
            await data.Reader.CopyAsync(version, offset, count, data.ReadOrder(node.Raft.Metadata, version), () => Task.CompletedTask, sink, bad => data.Report(bucket, version.Key, bad), token).ConfigureAwait(false);
            await target.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await target.CompleteAsync(e).ConfigureAwait(false);
        }
    }

    private async Task<S3Error?> CompleteMultipartUploadAsync(HttpContext http, S3Route route, Dictionary<string, string> query, CancellationToken token)
    {
        if (http.Request.ContentLength is not { } length || length > CompleteBodyBytesMax)
        {
            return new S3Error("MissingContentLength", 411, $"CompleteMultipartUpload needs a Content-Length of at most {CompleteBodyBytesMax} bytes");
        }

        byte[] body = new byte[length];
        await http.Request.Body.ReadExactlyAsync(body, http.RequestAborted).ConfigureAwait(false);
        if (S3Xml.ParseCompleteMultipartUpload(body) is not { Count: > 0 } chosen)
        {
            return new S3Error("MalformedXML", 400, "the body is not a CompleteMultipartUpload document naming at least one part");
        }

        string uploadId = query.GetValueOrDefault("uploadId", string.Empty);
        (S3Error? missing, MultipartUpload? upload) = await ReadUploadAsync(route, uploadId, token).ConfigureAwait(false);
        if (missing is { Code: "NoSuchUpload" } && node.Raft.Metadata.FindObject(route.Bucket, route.Key) is { } existing
            && existing.ETag == MultipartETag(chosen.Select(c => c.ETag)))
        {
            // A retry of a completion that already happened (its answer was lost): the object it made is there.
            await WriteXmlAsync(http, S3Xml.CompleteMultipartUpload($"/{route.Bucket}/{route.Key}", route.Bucket, route.Key, existing.ETag)).ConfigureAwait(false);
            return null;
        }

        if (missing is not null)
        {
            return missing;
        }

        if (Assemble(upload!, chosen, time.GetUtcNow().ToUnixTimeMilliseconds()) is not { } version)
        {
            return AssembleError(upload!, chosen);
        }

        await proposer.ProposeAsync(new CompleteMultipartUpload(route.Bucket, uploadId, version), token).ConfigureAwait(false);
        ObjectVersion? committed = node.Raft.Metadata.FindObject(route.Bucket, route.Key);
        if (FindUpload(node.Raft.Metadata, route.Bucket, uploadId) is not null)
        {
            return new S3Error("InvalidPart", 400, "a chosen part was uploaded again while the upload was being completed; complete it again with the new ETags");
        }

        if (committed is null || committed.ETag != version.ETag || committed.CreatedUnixMs != version.CreatedUnixMs)
        {
            return NoSuchUpload(uploadId); // aborted or completed by another request first
        }

        await WriteXmlAsync(http, S3Xml.CompleteMultipartUpload($"/{route.Bucket}/{route.Key}", route.Bucket, route.Key, version.ETag)).ConfigureAwait(false);
        return null;
    }

    private async Task<S3Error?> AbortMultipartUploadAsync(HttpContext http, S3Route route, Dictionary<string, string> query, CancellationToken token)
    {
        string uploadId = query.GetValueOrDefault("uploadId", string.Empty);
        (S3Error? missing, MultipartUpload? upload) = await ReadUploadAsync(route, uploadId, token).ConfigureAwait(false);
        if (missing is not null)
        {
            return missing;
        }

        await proposer.ProposeAsync(new AbortMultipartUpload(route.Bucket, uploadId), token).ConfigureAwait(false);
        http.Response.StatusCode = StatusCodes.Status204NoContent;
        return null;
    }

    private async Task<S3Error?> ListPartsAsync(HttpContext http, S3Route route, Dictionary<string, string> query, ApiKey? key, CancellationToken token)
    {
        if (ReadLimit(query, "max-parts", out int maxParts) is { } badMax)
        {
            return badMax;
        }

        int marker = 0;
        if (query.TryGetValue("part-number-marker", out string? markerText) && markerText.Length > 0
            && !int.TryParse(markerText, NumberStyles.None, CultureInfo.InvariantCulture, out marker))
        {
            return S3Error.InvalidArgument("part-number-marker must be a non-negative integer");
        }

        string uploadId = query.GetValueOrDefault("uploadId", string.Empty);
        (S3Error? missing, MultipartUpload? upload) = await ReadUploadAsync(route, uploadId, token).ConfigureAwait(false);
        if (missing is not null)
        {
            return missing;
        }

        List<UploadedPart> after = [.. upload!.Parts.Values.Where(p => p.PartNumber > marker)];
        List<UploadedPart> page = [.. after.Take(maxParts)];
        await WriteXmlAsync(http, S3Xml.ListParts(route.Bucket, upload, marker, maxParts, page, after.Count > page.Count, key?.AccessKeyId ?? "anonymous")).ConfigureAwait(false);
        return null;
    }

    private async Task<S3Error?> ListMultipartUploadsAsync(HttpContext http, S3Route route, Dictionary<string, string> query, ApiKey? key, CancellationToken token)
    {
        if (ReadLimit(query, "max-uploads", out int maxUploads) is { } badMax)
        {
            return badMax;
        }

        string prefix = query.GetValueOrDefault("prefix", string.Empty);
        string keyMarker = query.GetValueOrDefault("key-marker", string.Empty);
        string uploadIdMarker = query.GetValueOrDefault("upload-id-marker", string.Empty);
        MetadataState state = await ReadStateAsync(token).ConfigureAwait(false);
        if (!state.Buckets.TryGetValue(route.Bucket, out BucketState? bucket))
        {
            return S3Error.NoSuchBucket(route.Bucket);
        }

        // S3 order: by key (UTF-8), then by when the upload started; resume after (key-marker, upload-id-marker).
        List<MultipartUpload> after = [.. bucket.Uploads.Values
            .Where(u => u.Key.StartsWith(prefix, StringComparison.Ordinal))
            .OrderBy(u => u.Key, Utf8OrdinalComparer.Instance)
            .ThenBy(u => u.InitiatedUnixMs)
            .ThenBy(u => u.UploadId, StringComparer.Ordinal)
            .SkipWhile(u => keyMarker.Length > 0 && IsAtOrBeforeMarker(u, bucket, keyMarker, uploadIdMarker))];
        List<MultipartUpload> page = [.. after.Take(maxUploads)];
        await WriteXmlAsync(http, S3Xml.ListMultipartUploads(route.Bucket, prefix, keyMarker, uploadIdMarker, maxUploads, page, after.Count > page.Count, key?.AccessKeyId ?? "anonymous")).ConfigureAwait(false);
        return null;
    }

    private static bool IsAtOrBeforeMarker(MultipartUpload upload, BucketState bucket, string keyMarker, string uploadIdMarker)
    {
        int byKey = Utf8OrdinalComparer.Instance.Compare(upload.Key, keyMarker);
        if (byKey != 0 || uploadIdMarker.Length == 0)
        {
            return byKey <= 0;
        }

        // Same key: skip up to and including the marker upload (by start time, then id).
        return bucket.Uploads.TryGetValue(uploadIdMarker, out MultipartUpload? marker)
            && (upload.InitiatedUnixMs, upload.UploadId).CompareTo((marker.InitiatedUnixMs, marker.UploadId)) <= 0;
    }

    private static S3Error? ReadLimit(Dictionary<string, string> query, string name, out int limit)
    {
        limit = ListLimit;
        if (query.TryGetValue(name, out string? text) && text.Length > 0)
        {
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit))
            {
                return S3Error.InvalidArgument($"{name} must be a non-negative integer");
            }

            limit = Math.Min(limit, ListLimit);
        }

        return null;
    }

    /// <summary>The upload of the route's key after a read barrier, or NoSuchBucket / NoSuchUpload.</summary>
    private async Task<(S3Error? Error, MultipartUpload? Upload)> ReadUploadAsync(S3Route route, string uploadId, CancellationToken token)
    {
        MetadataState state = await ReadStateAsync(token).ConfigureAwait(false);
        if (!state.Buckets.ContainsKey(route.Bucket))
        {
            return (S3Error.NoSuchBucket(route.Bucket), null);
        }

        return FindUpload(state, route.Bucket, uploadId) is { } upload && upload.Key == route.Key ? (null, upload) : (NoSuchUpload(uploadId), null);
    }

    private static MultipartUpload? FindUpload(MetadataState state, string bucket, string uploadId) =>
        state.Buckets.TryGetValue(bucket, out BucketState? found) && found.Uploads.TryGetValue(uploadId, out MultipartUpload? upload) ? upload : null;

    /// <summary>
    /// The object version the chosen parts make, or null when the choice is not valid: parts ascending,
    /// each uploaded with that ETag, each but the last at least 5 MiB, and some replica holding them all.
    /// Its ETag is S3's: the MD5 of the parts' binary MD5s, a dash, the part count.
    /// </summary>
    internal static ObjectVersion? Assemble(MultipartUpload upload, IReadOnlyList<(int PartNumber, string ETag)> chosen, long nowUnixMs)
    {
        var parts = new List<UploadedPart>(chosen.Count);
        for (int i = 0; i < chosen.Count; i++)
        {
            if ((i > 0 && chosen[i].PartNumber <= chosen[i - 1].PartNumber)
                || !upload.Parts.TryGetValue(chosen[i].PartNumber, out UploadedPart? part)
                || Unquote(part.ETag) != Unquote(chosen[i].ETag)
                || (i < chosen.Count - 1 && part.SizeBytes < PartBytesMin))
            {
                return null;
            }

            parts.Add(part);
        }

        ImmutableArray<string> replicas = [.. parts[0].Replicas.Where(r => parts.All(p => p.Replicas.Contains(r)))];
        if (replicas.IsEmpty && parts.Any(p => p.SizeBytes > 0))
        {
            return null;
        }

        return new ObjectVersion(
            upload.Key,
            0,
            parts.Sum(p => p.SizeBytes),
            MultipartETag(parts.Select(p => p.ETag))!, // parts' ETags are MD5s this node wrote
            upload.ContentType,
            nowUnixMs,
            upload.UserMetadata,
            [.. parts.SelectMany(p => p.Blobs)],
            replicas);
    }

    /// <summary>Why <see cref="Assemble"/> refused: the first rule the choice breaks, as S3 names it.</summary>
    private static S3Error AssembleError(MultipartUpload upload, IReadOnlyList<(int PartNumber, string ETag)> chosen)
    {
        for (int i = 0; i < chosen.Count; i++)
        {
            if (i > 0 && chosen[i].PartNumber <= chosen[i - 1].PartNumber)
            {
                return new S3Error("InvalidPartOrder", 400, "the parts must be listed in ascending order of part number");
            }

            if (!upload.Parts.TryGetValue(chosen[i].PartNumber, out UploadedPart? part) || Unquote(part.ETag) != Unquote(chosen[i].ETag))
            {
                return new S3Error("InvalidPart", 400, $"part {chosen[i].PartNumber} was not uploaded, or its ETag is not {chosen[i].ETag}");
            }

            if (i < chosen.Count - 1 && part.SizeBytes < PartBytesMin)
            {
                return new S3Error("EntityTooSmall", 400, $"part {part.PartNumber} is {part.SizeBytes} bytes; every part but the last must be at least {PartBytesMin}");
            }
        }

        return new S3Error("ServiceUnavailable", 503, "no replica holds every chosen part (parts were stored while nodes were down); upload the parts again");
    }

    private static string Unquote(string etag) => etag.Trim().Trim('"');

    /// <summary>S3's ETag of a multipart object: the MD5 of the parts' binary MD5s, a dash, the part count. Null when a part ETag is not an MD5.</summary>
    internal static string? MultipartETag(IEnumerable<string> partETags)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        int count = 0;
        foreach (string etag in partETags)
        {
            string hex = Unquote(etag);
            if (hex.Length != 32 || !hex.All(char.IsAsciiHexDigit))
            {
                return null;
            }

            md5.AppendData(Convert.FromHexString(hex));
            count++;
        }

        return $"\"{Convert.ToHexStringLower(md5.GetHashAndReset())}-{count}\"";
    }
}
