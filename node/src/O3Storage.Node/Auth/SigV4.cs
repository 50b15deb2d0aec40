// Owns: AWS Signature Version 4 verification for S3 requests, in the Authorization header and in
// presigned URLs: canonical request, string to sign, signing key, and the S3 error a failure maps to.
// Pure: the request comes in as its raw path, raw query and a header lookup; the clock is a parameter.
// The body's hash (x-amz-content-sha256) is checked by whoever streams the body; chunked bodies go
// through AwsChunkedStream with the signing context returned here.
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace O3Storage.Node.Auth;

/// <summary>An S3 request as the verifier sees it: <paramref name="RawPath"/> and <paramref name="RawQuery"/> exactly as on the wire.</summary>
/// <param name="Header">A header's value by name (case-insensitive), repeated headers joined with commas; null when absent.</param>
public sealed record SigV4Request(string Method, string RawPath, string RawQuery, Func<string, string?> Header);

/// <summary>How a verified request signs its body.</summary>
/// <param name="ContentSha256">x-amz-content-sha256 (a hex digest, UNSIGNED-PAYLOAD, or a STREAMING-* mode).</param>
public sealed record SigV4Context(ApiKey Key, byte[] SigningKey, string Signature, string AmzDate, string Scope, string ContentSha256)
{
    public const string UnsignedPayload = "UNSIGNED-PAYLOAD";
    public const string StreamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    public const string StreamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
    public const string StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

    public bool IsStreaming => ContentSha256.StartsWith("STREAMING-", StringComparison.Ordinal);
}

/// <summary>A refused request: the S3 error code, its HTTP status and a message for the error XML.</summary>
public sealed record SigV4Error(string Code, int Status, string Message);

public static class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public static readonly TimeSpan AllowedSkew = TimeSpan.FromMinutes(15);
    public const int PresignedExpiresMaxSeconds = 7 * 24 * 3600;

    private static readonly string s_emptySha256 = Hex(SHA256.HashData([]));

    /// <summary>True when the request carries SigV4 credentials (header or query); otherwise it is anonymous or uses a bearer token.</summary>
    public static bool IsSigned(SigV4Request request) =>
        request.Header("authorization")?.StartsWith(Algorithm, StringComparison.Ordinal) == true
        || request.RawQuery.Contains("X-Amz-Signature=", StringComparison.Ordinal);

    /// <summary>The verified request's signing context, or null with <paramref name="error"/> saying why it is refused.</summary>
    public static SigV4Context? Verify(SigV4Request request, ApiKeys keys, DateTimeOffset now, out SigV4Error? error)
    {
        string? authorization = request.Header("authorization");
        return authorization is not null && authorization.StartsWith(Algorithm, StringComparison.Ordinal)
            ? VerifyHeader(request, authorization, keys, now, out error)
            : VerifyPresigned(request, keys, now, out error);
    }

    private static SigV4Context? VerifyHeader(SigV4Request request, string authorization, ApiKeys keys, DateTimeOffset now, out SigV4Error? error)
    {
        // AWS4-HMAC-SHA256 Credential=ID/DATE/REGION/s3/aws4_request, SignedHeaders=a;b, Signature=hex
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in authorization[Algorithm.Length..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = part.IndexOf('=');
            if (equals > 0)
            {
                fields[part[..equals].Trim()] = part[(equals + 1)..].Trim();
            }
        }

        if (!fields.TryGetValue("Credential", out string? credential) || !fields.TryGetValue("SignedHeaders", out string? signedHeaders) || !fields.TryGetValue("Signature", out string? signature))
        {
            error = new SigV4Error("AuthorizationHeaderMalformed", 400, "the Authorization header needs Credential, SignedHeaders and Signature");
            return null;
        }

        string? amzDate = request.Header("x-amz-date");
        if (amzDate is null || !TryParseAmzDate(amzDate, out DateTimeOffset signedAt))
        {
            error = new SigV4Error("AccessDenied", 403, "x-amz-date is missing or not in the form 20130524T000000Z");
            return null;
        }

        if ((now - signedAt).Duration() > AllowedSkew)
        {
            error = new SigV4Error("RequestTimeTooSkewed", 403, $"the request time {amzDate} differs from the server time {now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'} by more than 15 minutes");
            return null;
        }

        string? contentSha256 = request.Header("x-amz-content-sha256");
        if (contentSha256 is null)
        {
            error = new SigV4Error("InvalidRequest", 400, "missing required header for this request: x-amz-content-sha256");
            return null;
        }

        return Check(request, keys, credential, signedHeaders, signature, amzDate, contentSha256, presigned: false, out error);
    }

    private static SigV4Context? VerifyPresigned(SigV4Request request, ApiKeys keys, DateTimeOffset now, out SigV4Error? error)
    {
        Dictionary<string, string> query = ParseQuery(request.RawQuery).GroupBy(p => p.Name).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
        if (query.GetValueOrDefault("X-Amz-Algorithm") != Algorithm
            || !query.TryGetValue("X-Amz-Credential", out string? credential)
            || !query.TryGetValue("X-Amz-Date", out string? amzDate)
            || !query.TryGetValue("X-Amz-Expires", out string? expiresText)
            || !query.TryGetValue("X-Amz-SignedHeaders", out string? signedHeaders)
            || !query.TryGetValue("X-Amz-Signature", out string? signature))
        {
            error = new SigV4Error("AuthorizationQueryParametersError", 400, "a presigned URL needs X-Amz-Algorithm=AWS4-HMAC-SHA256, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature");
            return null;
        }

        if (!TryParseAmzDate(amzDate, out DateTimeOffset signedAt)
            || !int.TryParse(expiresText, NumberStyles.None, CultureInfo.InvariantCulture, out int expires) || expires < 1 || expires > PresignedExpiresMaxSeconds)
        {
            error = new SigV4Error("AuthorizationQueryParametersError", 400, "X-Amz-Date must be like 20130524T000000Z and X-Amz-Expires 1 to 604800 seconds");
            return null;
        }

        if (now > signedAt.AddSeconds(expires))
        {
            error = new SigV4Error("AccessDenied", 403, "Request has expired");
            return null;
        }

        if (signedAt - now > AllowedSkew)
        {
            error = new SigV4Error("RequestTimeTooSkewed", 403, "the presigned URL is dated more than 15 minutes in the future");
            return null;
        }

        string contentSha256 = query.GetValueOrDefault("X-Amz-Content-Sha256", SigV4Context.UnsignedPayload);
        return Check(request, keys, credential, signedHeaders, signature, amzDate, contentSha256, presigned: true, out error);
    }

    private static SigV4Context? Check(SigV4Request request, ApiKeys keys, string credential, string signedHeaders, string signature, string amzDate, string contentSha256, bool presigned, out SigV4Error? error)
    {
        // A digest the body is later checked against must be one: a signed "zz..." was a 500 when the body was stored.
        if (contentSha256 != SigV4Context.UnsignedPayload && !contentSha256.StartsWith("STREAMING-", StringComparison.Ordinal)
            && !(contentSha256.Length == 64 && contentSha256.All(char.IsAsciiHexDigit)))
        {
            error = new SigV4Error("InvalidArgument", 400, $"x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* mode, or the body's SHA-256 as 64 hex digits, not '{(contentSha256.Length > 80 ? contentSha256[..80] + "..." : contentSha256)}'");
            return null;
        }

        string[] scopeParts = credential.Split('/');
        if (scopeParts.Length != 5 || scopeParts[4] != "aws4_request" || scopeParts[3] != "s3" || scopeParts[1] != amzDate[..8])
        {
            error = new SigV4Error(presigned ? "AuthorizationQueryParametersError" : "AuthorizationHeaderMalformed", 400, $"credential '{credential}' must be ACCESSKEYID/{amzDate[..8]}/REGION/s3/aws4_request");
            return null;
        }

        ApiKey? key = keys.FindByAccessKeyId(scopeParts[0]);
        if (key is null)
        {
            error = new SigV4Error("InvalidAccessKeyId", 403, "the access key id does not exist in this cluster's api-keys.txt");
            return null;
        }

        string[] headerNames = signedHeaders.Split(';');
        if (!headerNames.Contains("host"))
        {
            error = new SigV4Error("AccessDenied", 403, "the signature must cover the host header");
            return null;
        }

        string scope = string.Join('/', scopeParts[1..]);
        string canonical = CanonicalRequest(request, headerNames, contentSha256, excludeSignatureFromQuery: presigned);
        string stringToSign = $"{Algorithm}\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        byte[] signingKey = SigningKey(key.Secret, scopeParts[1], scopeParts[2], scopeParts[3]);
        string expected = Hex(HMACSHA256.HashData(signingKey, Encoding.UTF8.GetBytes(stringToSign)));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature.ToLowerInvariant())))
        {
            error = new SigV4Error("SignatureDoesNotMatch", 403, "the request signature we calculated does not match the signature you provided; check your key and signing method");
            return null;
        }

        error = null;
        return new SigV4Context(key, signingKey, expected, amzDate, scope, contentSha256);
    }

    internal static string CanonicalRequest(SigV4Request request, IReadOnlyList<string> signedHeaders, string contentSha256, bool excludeSignatureFromQuery)
    {
        var builder = new StringBuilder();
        builder.Append(request.Method).Append('\n');
        builder.Append(CanonicalUri(request.RawPath)).Append('\n');
        IEnumerable<(string Name, string Value)> query = ParseQuery(request.RawQuery)
            .Where(p => !(excludeSignatureFromQuery && p.Name == "X-Amz-Signature"))
            .Select(p => (Name: UriEncode(p.Name, encodeSlash: true), Value: UriEncode(p.Value, encodeSlash: true)))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ThenBy(p => p.Value, StringComparer.Ordinal);
        builder.AppendJoin('&', query.Select(p => $"{p.Name}={p.Value}")).Append('\n');
        foreach (string name in signedHeaders)
        {
            builder.Append(name).Append(':').Append(CanonicalHeaderValue(request.Header(name) ?? string.Empty)).Append('\n');
        }

        builder.Append('\n').AppendJoin(';', signedHeaders).Append('\n');
        builder.Append(contentSha256);
        return builder.ToString();
    }

    public static byte[] SigningKey(string secret, string date, string region, string service)
    {
        byte[] key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secret), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(key, "aws4_request"u8);
    }

    /// <summary>The signature of one aws-chunked chunk, chained from the previous one (the seed is the request's).</summary>
    public static string ChunkSignature(SigV4Context context, string previousSignature, ReadOnlySpan<byte> chunkSha256)
    {
        string stringToSign = $"AWS4-HMAC-SHA256-PAYLOAD\n{context.AmzDate}\n{context.Scope}\n{previousSignature}\n{s_emptySha256}\n{Hex(chunkSha256)}";
        return Hex(HMACSHA256.HashData(context.SigningKey, Encoding.UTF8.GetBytes(stringToSign)));
    }

    /// <summary>The signature of an aws-chunked trailer, chained from the last chunk's.</summary>
    public static string TrailerSignature(SigV4Context context, string previousSignature, string canonicalTrailer)
    {
        string stringToSign = $"AWS4-HMAC-SHA256-TRAILER\n{context.AmzDate}\n{context.Scope}\n{previousSignature}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalTrailer)))}";
        return Hex(HMACSHA256.HashData(context.SigningKey, Encoding.UTF8.GetBytes(stringToSign)));
    }

    /// <summary>S3 signs each path segment URI-encoded once (no normalization: "//" stays).</summary>
    internal static string CanonicalUri(string rawPath) => rawPath.Length == 0 ? "/" : UriEncode(PercentDecode(rawPath), encodeSlash: false);

    /// <summary>AWS's URI encoding: everything but A-Z a-z 0-9 - . _ ~ (and '/' in paths) as upper-case %XX of UTF-8.</summary>
    internal static string UriEncode(string value, bool encodeSlash)
    {
        var builder = new StringBuilder(value.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            char c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' || (c == '/' && !encodeSlash))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    /// <summary>Query parameters as sent: split on '&amp;' and the first '=', %XX decoded ('+' stays a plus).</summary>
    internal static IEnumerable<(string Name, string Value)> ParseQuery(string rawQuery)
    {
        foreach (string pair in rawQuery.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.IndexOf('=');
            yield return equals < 0 ? (PercentDecode(pair), string.Empty) : (PercentDecode(pair[..equals]), PercentDecode(pair[(equals + 1)..]));
        }
    }

    internal static string PercentDecode(string value)
    {
        if (!value.Contains('%'))
        {
            return value;
        }

        var bytes = new List<byte>(value.Length);
        int plain = 0; // start of the run of characters since the last %XX
        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] == '%' && i + 2 < value.Length && byte.TryParse(value.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte decoded))
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(value[plain..i])); // whole runs, so surrogate pairs stay together
                bytes.Add(decoded);
                i += 2;
                plain = i + 1;
            }
        }

        bytes.AddRange(Encoding.UTF8.GetBytes(value[plain..]));
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Trimmed, with runs of spaces inside collapsed to one.</summary>
    private static string CanonicalHeaderValue(string value)
    {
        var builder = new StringBuilder(value.Length);
        bool space = false;
        foreach (char c in value.Trim())
        {
            if (c is ' ' or '\t')
            {
                space = true;
                continue;
            }

            if (space)
            {
                builder.Append(' ');
                space = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    private static bool TryParseAmzDate(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParseExact(text, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);

    internal static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
