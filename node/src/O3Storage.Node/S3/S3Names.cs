// Owns: which bucket names and object keys this store accepts, and the S3 error for the others.
// Bucket names follow S3's general-purpose rules: 3-63 characters of a-z 0-9 . -, starting and ending
// with a letter or digit, no "..", not shaped like an IPv4 address, none of the reserved prefixes and
// suffixes; "admin", "health", "metrics" and "internal" are taken (the dashboard's "ui" is shorter than any bucket name) by the node's own endpoints on the same port. Keys are 1-1024 bytes of UTF-8; unlike S3 this store also refuses a NUL character or a ".."
// or "." path segment, which file-system-minded clients (and `aws s3 sync`) would turn into paths
// outside the destination.
using System.Net;
using System.Text;

namespace O3Storage.Node.S3;

/// <summary>An S3 error: the code clients branch on, its HTTP status, and a message for people.</summary>
public sealed record S3Error(string Code, int Status, string Message)
{
    public static S3Error NoSuchBucket(string bucket) => new("NoSuchBucket", 404, $"the bucket '{bucket}' does not exist");

    public static S3Error NoSuchKey(string key) => new("NoSuchKey", 404, $"the key '{key}' does not exist");

    public static S3Error BucketNotEmpty(string bucket) => new("BucketNotEmpty", 409, $"the bucket '{bucket}' is not empty");

    public static S3Error BucketAlreadyOwnedByYou(string bucket) => new("BucketAlreadyOwnedByYou", 409, $"the bucket '{bucket}' already exists and is yours");

    public static S3Error AccessDenied(string why) => new("AccessDenied", 403, why);

    public static S3Error InvalidArgument(string why) => new("InvalidArgument", 400, why);
}

public static class S3Names
{
    public const int KeyBytesMax = 1024;

    public static S3Error? CheckBucket(string name)
    {
        string? problem = name switch
        {
            { Length: < 3 or > 63 } => "must be 3 to 63 characters long",
            _ when !name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-') => "may hold only lower-case letters, digits, '.' and '-'",
            _ when !char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1]) => "must start and end with a letter or digit",
            _ when name.Contains("..", StringComparison.Ordinal) => "must not contain '..'",
            _ when name.Count(c => c == '.') == 3 && IPAddress.TryParse(name, out _) => "must not be formatted as an IP address",
            _ when name.StartsWith("xn--", StringComparison.Ordinal) || name.StartsWith("sthree-", StringComparison.Ordinal) => "must not start with 'xn--' or 'sthree-'",
            _ when name.EndsWith("-s3alias", StringComparison.Ordinal) || name.EndsWith("--ol-s3", StringComparison.Ordinal) => "must not end with '-s3alias' or '--ol-s3'",
            "admin" or "health" or "metrics" or "internal" => "is reserved: /admin, /health, /metrics and /internal are the node's own endpoints",
            _ => null,
        };
        return problem is null ? null : new S3Error("InvalidBucketName", 400, $"the bucket name '{Shorten(name)}' {problem}");
    }

    public static S3Error? CheckKey(string key)
    {
        int bytes = Encoding.UTF8.GetByteCount(key);
        if (bytes == 0)
        {
            return S3Error.InvalidArgument("an object key must not be empty");
        }

        if (bytes > KeyBytesMax)
        {
            return new S3Error("KeyTooLongError", 400, $"an object key is at most {KeyBytesMax} bytes of UTF-8; this one is {bytes}");
        }

        if (key.Contains('\0'))
        {
            return S3Error.InvalidArgument("an object key must not contain a NUL character");
        }

        if (key.Split('/').Any(segment => segment is ".." or "."))
        {
            return S3Error.InvalidArgument("an object key must not have a '.' or '..' path segment");
        }

        return null;
    }

    private static string Shorten(string name) => name.Length <= 70 ? name : name[..70] + "...";
}
