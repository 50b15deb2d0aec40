// Owns: the S3 object operations: PutObject, GetObject and HeadObject (ranges, conditions), DeleteObject,
// DeleteObjects and CopyObject. Bytes go through the DataPath (stored on the replicas before anything
// commits; read back checksum-verified from the nearest replica); metadata through the proposer.
// Faults: a body that is short, over-long, or fails its Content-MD5 or signed SHA-256 commits nothing and
// its blobs are deleted; a commit that fails after the bytes were stored leaves them to the collector.
using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Auth;
using O3Storage.Node.Consensus;
using O3Storage.Node.Data;
using O3Storage.Node.S3;

namespace O3Storage.Node.Api;

internal sealed partial class S3Endpoints
{
    /// <summary>The largest object one PutObject may carry: S3's own limit; larger objects go multipart.</summary>
    public const long PutObjectBytesMax = 5L << 30;

    /// <summary>S3's limit on the user metadata of one object (names and values, in UTF-8).</summary>
    public const int UserMetadataBytesMax = 2048;

    private const string DefaultContentType = "binary/octet-stream";
    private const string UserMetadataPrefix = "x-amz-meta-";
    private const int DeleteObjectsKeysMax = 1000;
    private const int DeleteObjectsBodyBytesMax = 2 << 20;

    /// <summary>GetObject's response header overrides: query parameter, header it sets.</summary>
    private static readonly (string Parameter, string Header)[] s_responseOverrides =
    [
        ("response-content-type", "Content-Type"),
        ("response-content-language", "Content-Language"),
        ("response-expires", "Expires"),
        ("response-cache-control", "Cache-Control"),
        ("response-content-disposition", "Content-Disposition"),
        ("response-content-encoding", "Content-Encoding"),
    ];

    private async Task<S3Error?> PutObjectAsync(HttpContext http, S3Route route, SigV4Context? signature, CancellationToken token)
    {
        if (S3Names.CheckKey(route.Key) is { } badKey)
        {
            return badKey;
        }

        if (!node.Raft.Metadata.Buckets.ContainsKey(route.Bucket))
        {
            // Checked on this node's state before any byte is stored; checked again by the commit itself.
            await ReadStateAsync(token).ConfigureAwait(false);
            if (!node.Raft.Metadata.Buckets.ContainsKey(route.Bucket))
            {
                return S3Error.NoSuchBucket(route.Bucket);
            }
        }

        if (ReadUserMetadata(http.Request.Headers, out ImmutableArray<KeyValuePair<string, string>> userMetadata) is { } badMetadata)
        {
            return badMetadata;
        }

        (S3Error? bodyError, StoredObject? stored) = await StoreBodyAsync(http, route, signature, mayInline: true).ConfigureAwait(false);
        if (bodyError is not null)
        {
            return bodyError;
        }

        var version = new ObjectVersion(
            route.Key,
            0,
            stored!.SizeBytes,
            Md5ETag(stored.Md5),
            ContentTypeOf(http.Request.Headers),
            time.GetUtcNow().ToUnixTimeMilliseconds(),
            userMetadata,
            stored.Blobs,
            stored.Replicas);
        return await CommitPutAsync(http, route.Bucket, version, command: stored.Command(route.Bucket, version)).ConfigureAwait(false);
    }

    /// <summary>
    /// Stores the request body through the data path, checked against Content-MD5 and a signed
    /// x-amz-content-sha256: the stored bytes, or the S3 error (with nothing left stored).
    /// </summary>
    /// <param name="mayInline">The caller commits <see cref="StoredObject.Command"/> (a small object may travel in the entry).</param>
    private async Task<(S3Error? Error, StoredObject? Stored)> StoreBodyAsync(HttpContext http, S3Route route, SigV4Context? signature, bool mayInline = false)
    {
        if (OpenBody(http, signature, out Stream body, out long length) is { } badBody)
        {
            return (badBody, null);
        }

        if (ExpectedMd5(http.Request.Headers) is var (md5Error, expectedMd5) && md5Error is not null)
        {
            return (md5Error, null);
        }

        byte[]? expectedSha256 = signature is { IsStreaming: false } && signature.ContentSha256 != SigV4Context.UnsignedPayload
            ? Convert.FromHexString(signature.ContentSha256)
            : null;
        try
        {
            return (null, await data.StoreAsync(node.Raft.Metadata, route.Bucket, route.Key, body, length, expectedMd5, expectedSha256, http.RequestAborted, mayInline).ConfigureAwait(false));
        }
        catch (Exception e) when (BodyError(e) is { } bodyError)
        {
            return (bodyError, null);
        }
    }

    /// <summary>
    /// Commits a new version and answers with its ETag. Nothing is discarded after a commit was
    /// attempted, even when the bucket turns out gone: another version may already share the blobs
    /// (a copy), and the collector takes them safely once nothing refers to them.
    /// </summary>
    /// <param name="command">What commits <paramref name="version"/>: a PutObject unless given (a PutInline).</param>
    private async Task<S3Error?> CommitPutAsync(HttpContext http, string bucket, ObjectVersion version, Func<ObjectVersion, byte[]>? answer = null, PutCopy? copy = null, MetadataCommand? command = null)
    {
        using CancellationTokenSource deadline = ClusterDeadline(http);
        await proposer.ProposeAsync(copy ?? command ?? new PutObject(bucket, version), deadline.Token).ConfigureAwait(false);
        MetadataState state = node.Raft.Metadata;
        if (!state.Buckets.ContainsKey(bucket))
        {
            return S3Error.NoSuchBucket(bucket); // deleted while the body streamed in: the commit did nothing
        }

        if (copy is not null && state.FindObject(copy.SourceBucket, copy.SourceKey)?.VersionIndex != copy.SourceVersionIndex)
        {
            // The source changed: either after the copy committed (then the copy is there), or before (then it did nothing).
            ObjectVersion? landed = state.FindObject(bucket, version.Key);
            if (landed is null || landed.CreatedUnixMs != version.CreatedUnixMs || landed.ETag != version.ETag)
            {
                return new S3Error("NoSuchKey", 404, $"the copy source '{copy.SourceKey}' changed while it was being copied; retry");
            }
        }

        if (answer is not null)
        {
            await WriteXmlAsync(http, answer(version)).ConfigureAwait(false); // the ETag goes in the body
        }
        else
        {
            http.Response.Headers.ETag = version.ETag;
        }

        return null;
    }

    private async Task<S3Error?> GetObjectAsync(HttpContext http, S3Route route, CancellationToken token)
    {
        MetadataState state = await ReadStateAsync(token).ConfigureAwait(false);
        if (!state.Buckets.TryGetValue(route.Bucket, out BucketState? bucket))
        {
            return S3Error.NoSuchBucket(route.Bucket);
        }

        if (bucket.Objects.Find(route.Key) is not { } version)
        {
            return S3Error.NoSuchKey(route.Key);
        }

        if (NamesAnotherVersion(http.Request.Query["versionId"].FirstOrDefault()))
        {
            return NoSuchVersion(route.Key);
        }

        IHeaderDictionary headers = http.Response.Headers;
        headers.ETag = version.ETag;
        headers.LastModified = DateTimeOffset.FromUnixTimeMilliseconds(version.CreatedUnixMs).ToString("R", CultureInfo.InvariantCulture);
        headers.AcceptRanges = "bytes";
        foreach ((string name, string value) in version.UserMetadata)
        {
            headers[UserMetadataPrefix + name] = MimeWords.Encode(value);
        }

        if (CheckConditions(http.Request.Headers, version) is { } failed)
        {
            if (failed == StatusCodes.Status304NotModified)
            {
                http.Response.StatusCode = failed;
                return null;
            }

            return new S3Error("PreconditionFailed", 412, "at least one of the preconditions you specified did not hold");
        }

        (long offset, long count, bool partial) = (0, version.SizeBytes, false);
        string range = http.Request.Headers.Range.ToString();
        if (range.Length > 0 && ParseRange(range, version.SizeBytes) is var (rangeOffset, rangeCount, satisfiable))
        {
            if (!satisfiable)
            {
                headers.ContentRange = $"bytes */{version.SizeBytes}";
                return new S3Error("InvalidRange", 416, $"the range '{range}' is not satisfiable for an object of {version.SizeBytes} bytes");
            }

            (offset, count, partial) = (rangeOffset, rangeCount, true);
        }

        // S3's response-* overrides become headers of this response (a presigned URL's way to set them).
        foreach ((string parameter, string header) in s_responseOverrides)
        {
            if (http.Request.Query[parameter].FirstOrDefault() is not { } value)
            {
                continue;
            }

            if (value.Any(c => (c < ' ' && c != '\t') || c >= '\x7f'))
            {
                return S3Error.InvalidArgument($"{parameter} may hold only printable ASCII characters: it becomes the response's {header} header");
            }

            headers[header] = value;
        }

        if (http.Request.Query["response-content-type"].Count == 0)
        {
            http.Response.ContentType = version.ContentType;
        }

        http.Response.ContentLength = count;
        if (partial)
        {
            http.Response.StatusCode = StatusCodes.Status206PartialContent;
            headers.ContentRange = $"bytes {offset}-{offset + count - 1}/{version.SizeBytes}";
        }

        if (HttpMethods.IsHead(http.Request.Method))
        {
            return null;
        }

        try
        {
            await data.Reader.CopyAsync(
                version,
                offset,
                count,
                data.ReadOrder(node.Raft.Metadata, version),
                () => http.Response.StartAsync(http.RequestAborted),
                http.Response.Body,
                bad => data.Report(route.Bucket, route.Key, bad),
                http.RequestAborted).ConfigureAwait(false);
        }
        catch (ObjectUnreadableException e) when (!http.Response.HasStarted)
        {
            http.Response.ContentLength = null;
            http.Response.Headers.ContentRange = default;
            return new S3Error("ServiceUnavailable", 503, $"no replica of {route.Bucket}/{route.Key} could serve it now: {e.Message}");
        }

        return null;
    }

    /// <summary>GetObjectTagging: an empty tag set for an object that exists (the aws CLI asks before a server-side copy).</summary>
    private async Task<S3Error?> GetObjectTaggingAsync(HttpContext http, S3Route route, CancellationToken token)
    {
        MetadataState state = await ReadStateAsync(token).ConfigureAwait(false);
        if (!state.Buckets.TryGetValue(route.Bucket, out BucketState? bucket))
        {
            return S3Error.NoSuchBucket(route.Bucket);
        }

        if (!bucket.Objects.Contains(route.Key))
        {
            return S3Error.NoSuchKey(route.Key);
        }

        await WriteXmlAsync(http, S3Xml.EmptyTagging()).ConfigureAwait(false);
        return null;
    }

    private async Task<S3Error?> DeleteObjectAsync(HttpContext http, S3Route route, CancellationToken token)
    {
        MetadataState state = await ReadStateAsync(token).ConfigureAwait(false);
        if (!state.Buckets.TryGetValue(route.Bucket, out BucketState? bucket))
        {
            return S3Error.NoSuchBucket(route.Bucket);
        }

        if (bucket.Objects.Contains(route.Key) && !NamesAnotherVersion(http.Request.Query["versionId"].FirstOrDefault()))
        {
            await proposer.ProposeAsync(new DeleteObject(route.Bucket, route.Key), token).ConfigureAwait(false);
        }

        http.Response.StatusCode = StatusCodes.Status204NoContent; // S3 answers the same for a key that was not there
        return null;
    }

    private async Task<S3Error?> DeleteObjectsAsync(HttpContext http, S3Route route, CancellationToken token)
    {
        if (http.Request.ContentLength is not { } length || length > DeleteObjectsBodyBytesMax)
        {
            return new S3Error("MissingContentLength", 411, $"DeleteObjects needs a Content-Length of at most {DeleteObjectsBodyBytesMax} bytes");
        }

        byte[] body = new byte[length];
        await http.Request.Body.ReadExactlyAsync(body, http.RequestAborted).ConfigureAwait(false);
        if (ExpectedMd5(http.Request.Headers) is var (md5Error, expectedMd5) && md5Error is not null)
        {
            return md5Error;
        }

        if (expectedMd5 is not null && !MD5.HashData(body).AsSpan().SequenceEqual(expectedMd5))
        {
            return new S3Error("BadDigest", 400, "the Content-MD5 you sent does not match the body");
        }

        if (S3Xml.ParseDelete(body) is not var (objects, quiet) || objects.Count == 0 || objects.Count > DeleteObjectsKeysMax)
        {
            return new S3Error("MalformedXML", 400, $"the body is not a Delete document naming 1 to {DeleteObjectsKeysMax} keys");
        }

        MetadataState state = await ReadStateAsync(token).ConfigureAwait(false);
        if (!state.Buckets.TryGetValue(route.Bucket, out BucketState? bucket))
        {
            return S3Error.NoSuchBucket(route.Bucket);
        }

        var deleted = new List<DeleteEntry>();
        var errors = new List<(string, S3Error)>();
        using CancellationTokenSource deadline = ClusterDeadline(http, objects.Count);
        foreach (DeleteEntry entry in objects)
        {
            string key = entry.Key;
            if (S3Names.CheckKey(key) is { } badKey)
            {
                errors.Add((key, badKey));
                continue;
            }

            // Another version than the one this bucket keeps ("null") is not there: deleting it deletes nothing.
            if (bucket.Objects.Contains(key) && !NamesAnotherVersion(entry.VersionId))
            {
                try
                {
                    await proposer.ProposeAsync(new DeleteObject(route.Bucket, key), deadline.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is ProposeException or OperationCanceledException && !http.RequestAborted.IsCancellationRequested)
                {
                    errors.Add((key, new S3Error("ServiceUnavailable", 503, $"the cluster did not commit the delete: {e.Message}")));
                    continue;
                }
            }

            deleted.Add(entry);
        }

        await WriteXmlAsync(http, S3Xml.DeleteResult(deleted, errors, quiet)).ConfigureAwait(false);
        return null;
    }

    /// <summary>
    /// CopyObject: the new version shares the source's blobs (they are immutable and collected only when
    /// no version refers to them), so a copy of any size is one metadata commit and moves no bytes.
    /// </summary>
    private async Task<S3Error?> CopyObjectAsync(HttpContext http, S3Route route, CancellationToken token)
    {
        if (S3Names.CheckKey(route.Key) is { } badKey)
        {
            return badKey;
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

        string directive = http.Request.Headers["x-amz-metadata-directive"].ToString();
        if (directive is not ("" or "COPY" or "REPLACE"))
        {
            return S3Error.InvalidArgument("x-amz-metadata-directive must be COPY or REPLACE");
        }

        await DrainAsync(http).ConfigureAwait(false);
        MetadataState state = await ReadStateAsync(token).ConfigureAwait(false);
        if (!state.Buckets.ContainsKey(route.Bucket))
        {
            return S3Error.NoSuchBucket(route.Bucket);
        }

        (S3Error? sourceError, ObjectVersion? found) = FindCopySource(state, sourceBucket, sourceKey, http.Request.Headers);
        if (sourceError is not null)
        {
            return sourceError;
        }

        ObjectVersion original = found!;
        bool replace = directive == "REPLACE";
        if (!replace && sourceBucket == route.Bucket && sourceKey == route.Key)
        {
            return new S3Error("InvalidRequest", 400, "copying an object onto itself without changing its metadata (x-amz-metadata-directive: REPLACE) is not allowed");
        }

        ImmutableArray<KeyValuePair<string, string>> userMetadata = original.UserMetadata;
        if (replace && ReadUserMetadata(http.Request.Headers, out userMetadata) is { } badMetadata)
        {
            return badMetadata;
        }

        var copy = original with
        {
            Key = route.Key,
            CreatedUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
            ContentType = replace ? ContentTypeOf(http.Request.Headers) : original.ContentType,
            UserMetadata = userMetadata,
        };
        return await CommitPutAsync(
            http,
            route.Bucket,
            copy,
            v => S3Xml.CopyResult("CopyObjectResult", v.ETag, v.CreatedUnixMs),
            new PutCopy(route.Bucket, copy, sourceBucket, sourceKey, original.VersionIndex)).ConfigureAwait(false);
    }

    /// <summary>The body to store and its length: aws-chunked decoded when the signature says so.</summary>
    private static S3Error? OpenBody(HttpContext http, SigV4Context? signature, out Stream body, out long length)
    {
        body = http.Request.Body;
        length = http.Request.ContentLength ?? -1;
        if (signature is { IsStreaming: true })
        {
            string decoded = http.Request.Headers["x-amz-decoded-content-length"].ToString();
            if (!long.TryParse(decoded, NumberStyles.None, CultureInfo.InvariantCulture, out length))
            {
                return new S3Error("MissingContentLength", 411, "an aws-chunked upload needs x-amz-decoded-content-length");
            }

            body = new AwsChunkedStream(http.Request.Body, signature);
        }
        else if (http.Request.Headers.ContentEncoding.ToString().Contains("aws-chunked", StringComparison.Ordinal))
        {
            return S3Error.InvalidArgument("an aws-chunked body must be signed as STREAMING-* (or sent without aws-chunked)");
        }

        if (length < 0)
        {
            return new S3Error("MissingContentLength", 411, "PutObject needs a Content-Length");
        }

        return length > PutObjectBytesMax
            ? new S3Error("EntityTooLarge", 400, $"one PutObject carries at most {PutObjectBytesMax} bytes; use a multipart upload")
            : null;
    }

    /// <summary>
    /// A write that took longer than half the orphan grace is not committed: the collectors on its
    /// replicas may already count its first blobs as orphans (they cannot tell a slow upload from an
    /// abandoned one), and a commit must never refer to a blob that may be gone.
    /// </summary>
    /// <summary>The source object of a copy, or the S3 error: NoSuchBucket, NoSuchKey, PreconditionFailed.</summary>
    private static (S3Error? Error, ObjectVersion? Source) FindCopySource(MetadataState state, string bucket, string key, IHeaderDictionary headers)
    {
        if (!state.Buckets.TryGetValue(bucket, out BucketState? source))
        {
            return (S3Error.NoSuchBucket(bucket), null);
        }

        if (source.Objects.Find(key) is not { } original)
        {
            return (S3Error.NoSuchKey(key), null);
        }

        return CheckCopyConditions(headers, original) is { } failed ? (failed, null) : (null, original);
    }

    /// <summary>The S3 error for a failure while the body was being stored, or null to let it propagate.</summary>
    private static S3Error? BodyError(Exception e) => e switch
    {
        AwsChunkedException chunked => new S3Error(chunked.Code, chunked.Code == "SignatureDoesNotMatch" ? 403 : 400, chunked.Message),
        IncompleteBodyException short_ => new S3Error("IncompleteBody", 400, short_.Message),
        ReplicationException { Full: true } full => new S3Error("InsufficientStorage", 507, full.Message),
        ReplicationException replication => new S3Error("ServiceUnavailable", 503, replication.Message),
        IOException io => new S3Error("IncompleteBody", 400, $"the body could not be read to its end: {io.Message}"),
        CommitDeadlineException slow => new S3Error("RequestTimeout", 400, slow.Message),
        DigestMismatchException { Digest: "Content-MD5" } md5 => new S3Error("BadDigest", 400, $"the Content-MD5 you sent ({Convert.ToBase64String(md5.Expected)}) does not match the body's ({Convert.ToBase64String(md5.Actual)})"),
        DigestMismatchException sha => new S3Error("XAmzContentSHA256Mismatch", 400, $"the x-amz-content-sha256 you signed does not match the body's ({Convert.ToHexStringLower(sha.Actual)})"),
        _ => null,
    };

    /// <summary>Content-MD5 as bytes; an error when it is present but not base64 of 16 bytes.</summary>
    private static (S3Error? Error, byte[]? Md5) ExpectedMd5(IHeaderDictionary headers)
    {
        string text = headers.ContentMD5.ToString();
        if (text.Length == 0)
        {
            return (null, null);
        }

        byte[] md5 = new byte[16];
        return Convert.TryFromBase64String(text, md5, out int written) && written == 16
            ? (null, md5)
            : (new S3Error("InvalidDigest", 400, "Content-MD5 must be the base64 of a 16-byte MD5"), null);
    }

    private static string Md5ETag(byte[] md5) => $"\"{Convert.ToHexStringLower(md5)}\"";

    private static string ContentTypeOf(IHeaderDictionary headers) =>
        headers.ContentType.ToString() is { Length: > 0 } type ? type : DefaultContentType;

    /// <summary>The x-amz-meta-* headers (names lower-cased, values with RFC 2047 encoded words decoded, as S3 keeps them), at most 2 KiB in all.</summary>
    internal static S3Error? ReadUserMetadata(IHeaderDictionary headers, out ImmutableArray<KeyValuePair<string, string>> metadata)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        int bytes = 0;
        foreach ((string name, Microsoft.Extensions.Primitives.StringValues values) in headers)
        {
            if (name.StartsWith(UserMetadataPrefix, StringComparison.OrdinalIgnoreCase))
            {
                string key = name[UserMetadataPrefix.Length..].ToLowerInvariant();
                string value = MimeWords.Decode(values.ToString());
                bytes += Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value);
                pairs.Add(KeyValuePair.Create(key, value));
            }
        }

        metadata = [.. pairs.OrderBy(p => p.Key, StringComparer.Ordinal)];
        return bytes > UserMetadataBytesMax
            ? new S3Error("MetadataTooLarge", 400, $"user metadata (x-amz-meta-*) is {bytes} bytes; at most {UserMetadataBytesMax} are allowed")
            : null;
    }

    /// <summary>If-Match / If-None-Match / If-(Un)Modified-Since: null when the request goes on, else 304 or 412.</summary>
    private static int? CheckConditions(IHeaderDictionary headers, ObjectVersion version)
    {
        DateTimeOffset modified = DateTimeOffset.FromUnixTimeMilliseconds(version.CreatedUnixMs / 1000 * 1000);
        string ifMatch = headers.IfMatch.ToString();
        if (ifMatch.Length > 0 && !EtagListMatches(ifMatch, version.ETag))
        {
            return StatusCodes.Status412PreconditionFailed;
        }

        if (ifMatch.Length == 0 && TryDate(headers.IfUnmodifiedSince, out DateTimeOffset unmodifiedSince) && modified > unmodifiedSince)
        {
            return StatusCodes.Status412PreconditionFailed;
        }

        string ifNoneMatch = headers.IfNoneMatch.ToString();
        if (ifNoneMatch.Length > 0)
        {
            return EtagListMatches(ifNoneMatch, version.ETag) ? StatusCodes.Status304NotModified : null;
        }

        return TryDate(headers.IfModifiedSince, out DateTimeOffset modifiedSince) && modified <= modifiedSince ? StatusCodes.Status304NotModified : null;
    }

    private static S3Error? CheckCopyConditions(IHeaderDictionary headers, ObjectVersion source)
    {
        string ifMatch = headers["x-amz-copy-source-if-match"].ToString();
        string ifNoneMatch = headers["x-amz-copy-source-if-none-match"].ToString();
        return (ifMatch.Length > 0 && !EtagListMatches(ifMatch, source.ETag)) || (ifNoneMatch.Length > 0 && EtagListMatches(ifNoneMatch, source.ETag))
            ? new S3Error("PreconditionFailed", 412, "a copy-source precondition did not hold")
            : null;
    }

    private static bool EtagListMatches(string list, string etag) =>
        list.Split(',').Select(t => t.Trim()).Any(t => t == "*" || t == etag || $"\"{t}\"" == etag || t == $"W/{etag}");

    private static bool TryDate(Microsoft.Extensions.Primitives.StringValues value, out DateTimeOffset date) =>
        DateTimeOffset.TryParse(value.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out date);

    /// <summary>
    /// One byte range (RFC 9110): "bytes=a-b", "bytes=a-", "bytes=-n". Null for anything else (several
    /// ranges, another unit, malformed), which S3 answers with the whole object; not satisfiable when it
    /// starts at or past the end.
    /// </summary>
    internal static (long Offset, long Count, bool Satisfiable)? ParseRange(string header, long size)
    {
        if (!header.StartsWith("bytes=", StringComparison.Ordinal) || header.Contains(','))
        {
            return null;
        }

        string spec = header[6..].Trim();
        int dash = spec.IndexOf('-');
        if (dash < 0)
        {
            return null;
        }

        string first = spec[..dash];
        string last = spec[(dash + 1)..];
        static bool Number(string text, out long value) => long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (first.Length == 0)
        {
            if (!Number(last, out long suffix))
            {
                return null;
            }

            return suffix == 0 ? (0, 0, false) : (Math.Max(0, size - suffix), Math.Min(suffix, size), size > 0);
        }

        if (!Number(first, out long start) || (last.Length > 0 && (!Number(last, out long end) || end < start)))
        {
            return null;
        }

        long stop = last.Length == 0 ? size - 1 : Math.Min(long.Parse(last, CultureInfo.InvariantCulture), size - 1);
        return start >= size ? (0, 0, false) : (start, stop - start + 1, true);
    }

    /// <summary>
    /// Whether a request's versionId names a version other than the one a bucket without versioning keeps
    /// ("null", every object's): no such version exists, so a read of it is NoSuchVersion and a delete of it
    /// deletes nothing (never the object's current version).
    /// </summary>
    internal static bool NamesAnotherVersion(string? versionId) => versionId is not null && versionId != S3Xml.NullVersionId;

    private static S3Error NoSuchVersion(string key) => new("NoSuchVersion", 404, $"'{key}' has no such version: this bucket keeps no versions (every object's is 'null')");

    /// <summary>x-amz-copy-source: "bucket/key" or "/bucket/key", URL-encoded, optionally with ?versionId (only the current version exists).</summary>
    internal static (string Bucket, string Key)? ParseCopySource(string header)
    {
        int question = header.IndexOf('?');
        string path = SigV4.PercentDecode(question < 0 ? header : header[..question]).TrimStart('/');
        int slash = path.IndexOf('/');
        return slash <= 0 || slash == path.Length - 1 ? null : (path[..slash], path[(slash + 1)..]);
    }

    /// <summary>The versionId an x-amz-copy-source names after its '?', or null when it names none.</summary>
    internal static string? CopySourceVersion(string header) =>
        header.IndexOf('?') is var question and >= 0
            ? SigV4.ParseQuery(header[(question + 1)..]).Where(p => p.Name == "versionId").Select(p => p.Value).FirstOrDefault()
            : null;

    /// <summary>A fresh cluster deadline for a commit that follows a long transfer (the request's own started with it).</summary>
    private static CancellationTokenSource ClusterDeadline(HttpContext http, int commits = 1)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        deadline.CancelAfter(ClusterWaitTimeout * Math.Max(1, commits / 16));
        return deadline;
    }
}
