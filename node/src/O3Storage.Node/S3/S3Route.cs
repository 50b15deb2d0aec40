// Owns: which S3 operation a request is (path-style: /bucket/key), from its method, decoded path,
// query parameter names and the x-amz-copy-source header, and which key roles may perform it.
// Pure: the HTTP layer hands in what it parsed; an unknown combination is NotImplemented, never a guess.
using O3Storage.Node.Auth;

namespace O3Storage.Node.S3;

public enum S3Operation
{
    NotImplemented,
    ListBuckets,
    CreateBucket,
    HeadBucket,
    DeleteBucket,
    GetBucketLocation,
    ListObjectsV1,
    ListObjectsV2,
    DeleteObjects,
    ListMultipartUploads,
    PutObject,
    CopyObject,
    GetObject,
    HeadObject,
    DeleteObject,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    GetObjectTagging,
    ListObjectVersions,
    GetBucketVersioning,
}

/// <summary>An S3 request's operation and the bucket and key it names (empty when it names none).</summary>
public sealed record S3Route(S3Operation Operation, string Bucket, string Key)
{
    /// <param name="path">The request path, percent-decoded, starting with '/'.</param>
    /// <param name="queryNames">The names of the query parameters present (values do not choose the operation).</param>
    public static S3Route Parse(string method, string path, IReadOnlyCollection<string> queryNames, bool hasCopySource)
    {
        string trimmed = path.TrimStart('/');
        int slash = trimmed.IndexOf('/');
        string bucket = slash < 0 ? trimmed : trimmed[..slash];
        string key = slash < 0 ? string.Empty : trimmed[(slash + 1)..];
        bool Has(string name) => queryNames.Contains(name);

        S3Operation operation = (bucket.Length, key.Length, method) switch
        {
            (0, _, "GET") => S3Operation.ListBuckets,
            (0, _, _) => S3Operation.NotImplemented,
            (_, 0, "PUT") when !queryNames.Any(IsBucketSubresource) => S3Operation.CreateBucket,
            (_, 0, "HEAD") => S3Operation.HeadBucket,
            (_, 0, "DELETE") when !queryNames.Any(IsBucketSubresource) => S3Operation.DeleteBucket,
            (_, 0, "GET") when Has("location") => S3Operation.GetBucketLocation,
            (_, 0, "GET") when Has("uploads") => S3Operation.ListMultipartUploads,
            (_, 0, "GET") when Has("list-type") => S3Operation.ListObjectsV2,
            (_, 0, "GET") when Has("versions") => S3Operation.ListObjectVersions,
            (_, 0, "GET") when Has("versioning") => S3Operation.GetBucketVersioning,
            (_, 0, "GET") when !queryNames.Any(IsBucketSubresource) => S3Operation.ListObjectsV1,
            (_, 0, "POST") when Has("delete") => S3Operation.DeleteObjects,
            (_, 0, _) => S3Operation.NotImplemented,
            (_, _, "PUT") when Has("partNumber") && Has("uploadId") => hasCopySource ? S3Operation.UploadPartCopy : S3Operation.UploadPart,
            (_, _, "PUT") when !queryNames.Any(IsObjectSubresource) => hasCopySource ? S3Operation.CopyObject : S3Operation.PutObject,
            (_, _, "GET") when Has("uploadId") => S3Operation.ListParts,
            (_, _, "GET") when Has("tagging") && queryNames.Count == 1 => S3Operation.GetObjectTagging,
            (_, _, "GET") when !queryNames.Any(IsObjectSubresource) => S3Operation.GetObject,
            (_, _, "HEAD") when !queryNames.Any(IsObjectSubresource) => S3Operation.HeadObject,
            (_, _, "DELETE") when Has("uploadId") => S3Operation.AbortMultipartUpload,
            (_, _, "DELETE") when !queryNames.Any(IsObjectSubresource) => S3Operation.DeleteObject,
            (_, _, "POST") when Has("uploads") => S3Operation.CreateMultipartUpload,
            (_, _, "POST") when Has("uploadId") => S3Operation.CompleteMultipartUpload,
            _ => S3Operation.NotImplemented,
        };
        return new S3Route(operation, bucket, key);
    }

    /// <summary>Whether a key of <paramref name="role"/> may perform <paramref name="operation"/>: read-only keys only read.</summary>
    public static bool Allows(ApiRole role, S3Operation operation) => role is ApiRole.Admin or ApiRole.ReadWrite || IsRead(operation);

    /// <summary>Whether <paramref name="operation"/> only reads: what read-only keys and maintenance mode allow.</summary>
    public static bool IsRead(S3Operation operation) =>
        operation is S3Operation.ListBuckets or S3Operation.HeadBucket or S3Operation.GetBucketLocation
            or S3Operation.ListObjectsV1 or S3Operation.ListObjectsV2 or S3Operation.ListMultipartUploads
            or S3Operation.GetObject or S3Operation.HeadObject or S3Operation.ListParts or S3Operation.GetObjectTagging
            or S3Operation.ListObjectVersions or S3Operation.GetBucketVersioning;

    // Sub-resources this store does not implement: a request naming one must not fall through to a
    // plain GET/PUT/DELETE of the bucket or object (a GET ?acl is not a listing; a PUT ?tagging is not an upload).
    private static bool IsBucketSubresource(string name) =>
        name is "acl" or "cors" or "lifecycle" or "policy" or "tagging" or "versioning" or "versions" or "website" or "logging"
            or "notification" or "replication" or "encryption" or "object-lock" or "ownershipControls" or "publicAccessBlock"
            or "accelerate" or "requestPayment" or "analytics" or "inventory" or "metrics" or "intelligent-tiering";

    private static bool IsObjectSubresource(string name) =>
        name is "acl" or "tagging" or "retention" or "legal-hold" or "torrent" or "restore" or "select" or "attributes" or "uploads" or "uploadId" or "partNumber";
}
