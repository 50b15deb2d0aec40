using System.Text;
using O3Storage.Node.Auth;

namespace O3Storage.Node.Tests;

/// <summary>SigV4 against the worked examples in Amazon S3's API reference (same keys, dates and signatures).</summary>
public sealed class SigV4Tests
{
    private const string Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static readonly DateTimeOffset s_signedAt = new(2013, 5, 24, 0, 0, 0, TimeSpan.Zero);
    private static readonly ApiKeys s_keys = ApiKeys.TryParse($"read-write:{Secret}:AKIAIOSFODNN7EXAMPLE\nadmin:{new string('f', 40)}", "test", out _)!;

    private static SigV4Request Request(string method, string path, string query, params (string Name, string Value)[] headers) =>
        new(method, path, query, name => headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault());

    private static string Authorization(string signedHeaders, string signature) =>
        $"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders={signedHeaders},Signature={signature}";

    private static SigV4Context Verified(SigV4Request request, DateTimeOffset? now = null)
    {
        SigV4Context? context = SigV4.Verify(request, s_keys, now ?? s_signedAt.AddMinutes(1), out SigV4Error? error);
        Assert.True(context is not null, error?.ToString());
        return context!;
    }

    private static SigV4Error Refused(SigV4Request request, DateTimeOffset? now = null)
    {
        Assert.Null(SigV4.Verify(request, s_keys, now ?? s_signedAt.AddMinutes(1), out SigV4Error? error));
        return error!;
    }

    [Fact]
    public void GetObject_WithRange_MatchesTheAwsExample()
    {
        SigV4Context context = Verified(Request("GET", "/test.txt", "",
            ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"), ("x-amz-content-sha256", EmptySha256), ("x-amz-date", "20130524T000000Z"),
            ("Authorization", Authorization("host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"))));
        Assert.Equal(ApiRole.ReadWrite, context.Key.Role);
        Assert.Equal(EmptySha256, context.ContentSha256);
    }

    [Fact]
    public void PutObject_WithDateAndStorageClass_MatchesTheAwsExample()
    {
        Verified(Request("PUT", "/test$file.text", "",
            ("Host", "examplebucket.s3.amazonaws.com"), ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
            ("Authorization", Authorization("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class", "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))));
    }

    [Theory]
    [InlineData("lifecycle", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")]
    [InlineData("max-keys=2&prefix=J", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")]
    public void BucketRequests_WithQueries_MatchTheAwsExamples(string query, string signature)
    {
        Verified(Request("GET", "/", query,
            ("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-content-sha256", EmptySha256), ("x-amz-date", "20130524T000000Z"),
            ("Authorization", Authorization("host;x-amz-content-sha256;x-amz-date", signature))));
    }

    [Fact]
    public void PresignedUrl_MatchesTheAwsExample_AndExpires()
    {
        const string Query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
        SigV4Request request = Request("GET", "/test.txt", Query, ("Host", "examplebucket.s3.amazonaws.com"));
        Assert.True(SigV4.IsSigned(request));
        Assert.Equal(SigV4Context.UnsignedPayload, Verified(request, s_signedAt.AddHours(23)).ContentSha256);

        SigV4Error expired = Refused(request, s_signedAt.AddHours(24).AddSeconds(1));
        Assert.Equal(("AccessDenied", 403, "Request has expired"), (expired.Code, expired.Status, expired.Message));
    }

    [Fact]
    public void Tampering_WrongKeys_AndClockSkew_AreRefusedWithS3Codes()
    {
        (string, string)[] headers =
        [
            ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"), ("x-amz-content-sha256", EmptySha256), ("x-amz-date", "20130524T000000Z"),
            ("Authorization", Authorization("host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")),
        ];
        Assert.Equal("SignatureDoesNotMatch", Refused(Request("GET", "/test.txt", "", [.. headers.Select(h => h.Item1 == "Range" ? ("Range", "bytes=0-99") : h)])).Code);
        Assert.Equal("SignatureDoesNotMatch", Refused(Request("GET", "/other.txt", "", headers)).Code);
        Assert.Equal("SignatureDoesNotMatch", Refused(Request("DELETE", "/test.txt", "", headers)).Code);
        Assert.Equal("RequestTimeTooSkewed", Refused(Request("GET", "/test.txt", "", headers), s_signedAt.AddMinutes(16)).Code);

        SigV4Error unknown = Refused(Request("GET", "/test.txt", "", [.. headers.Select(h => h.Item1 == "Authorization" ? (h.Item1, h.Item2.Replace("AKIAIOSFODNN7EXAMPLE", "O3FFFFFFFFFFFFFFFFFF", StringComparison.Ordinal)) : h)]));
        Assert.Equal(("InvalidAccessKeyId", 403), (unknown.Code, unknown.Status));

        ApiKeys otherSecret = ApiKeys.TryParse($"read-write:0123456789abcdef0123:AKIAIOSFODNN7EXAMPLE\nadmin:{new string('f', 40)}", "test", out _)!;
        Assert.Null(SigV4.Verify(Request("GET", "/test.txt", "", headers), otherSecret, s_signedAt, out SigV4Error? wrongSecret));
        Assert.Equal("SignatureDoesNotMatch", wrongSecret!.Code);

        Assert.Equal("AuthorizationHeaderMalformed", Refused(Request("GET", "/test.txt", "", ("Host", "h"), ("x-amz-date", "20130524T000000Z"), ("Authorization", "AWS4-HMAC-SHA256 Credential=x"))).Code);

        // Not a digest (it was a 500 once the body arrived): refused before anything is read.
        foreach (string notADigest in new[] { new string('z', 64), EmptySha256[..63], EmptySha256 + "0", "unsigned-payload" })
        {
            SigV4Error malformed = Refused(Request("GET", "/test.txt", "", [.. headers.Select(h => h.Item1 == "x-amz-content-sha256" ? (h.Item1, notADigest) : h)]));
            Assert.Equal(("InvalidArgument", 400), (malformed.Code, malformed.Status));
            Assert.Contains($"not '{notADigest}'", malformed.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void CanonicalUri_EncodesEachSegmentOnceAndKeepsSlashes()
    {
        Assert.Equal("/my-bucket/a%20b/c%2Bd/%E2%82%AC/x~y_z.txt", SigV4.CanonicalUri("/my-bucket/a%20b/c%2Bd/%E2%82%AC/x~y_z.txt"));
        Assert.Equal("/b//k", SigV4.CanonicalUri("/b//k"));
        Assert.Equal("/", SigV4.CanonicalUri(""));
        Assert.Equal("/b/%F0%9F%98%80%20x", SigV4.CanonicalUri("/b/\U0001F600%20x")); // an unencoded character outside the BMP
        Assert.Equal("a%b", SigV4.PercentDecode("a%b")); // not an escape: kept as is
    }

    [Fact]
    public void ChunkedUpload_MatchesTheAwsExample_AndRejectsATamperedChunk()
    {
        SigV4Context context = Verified(Request("PUT", "/examplebucket/chunkObject.txt", "",
            ("Host", "s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("Content-Encoding", "aws-chunked"), ("x-amz-decoded-content-length", "66560"), ("Content-Length", "66824"),
            ("x-amz-content-sha256", SigV4Context.StreamingSigned),
            ("Authorization", Authorization("content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class", "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"))));
        Assert.True(context.IsStreaming);

        byte[] body = ChunkedBody(
            (65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"),
            (1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"),
            (0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"));
        Assert.Equal(66824, body.Length);
        using (var decoded = new AwsChunkedStream(new MemoryStream(body), context))
        {
            var output = new MemoryStream();
            decoded.CopyTo(output, 1000);
            Assert.Equal(66560, decoded.DecodedBytes);
            Assert.All(output.ToArray(), b => Assert.Equal((byte)'a', b));
        }

        body[70_000 % body.Length] = (byte)'b'; // inside the second chunk's data
        using var tampered = new AwsChunkedStream(new MemoryStream(body), context);
        var error = Assert.Throws<AwsChunkedException>(() => tampered.CopyTo(Stream.Null));
        Assert.Equal("SignatureDoesNotMatch", error.Code);

        using var truncated = new AwsChunkedStream(new MemoryStream(body[..30_000]), context);
        Assert.Equal("IncompleteBody", Assert.Throws<AwsChunkedException>(() => truncated.CopyTo(Stream.Null)).Code);
    }

    [Fact]
    public void UnsignedChunksWithTrailer_DecodeAndExposeTheChecksum()
    {
        var context = new SigV4Context(s_keys.Keys[0], new byte[32], "seed", "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", SigV4Context.StreamingUnsignedTrailer);
        byte[] body = Encoding.ASCII.GetBytes("5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n");
        using var decoded = new AwsChunkedStream(new MemoryStream(body), context);
        Assert.Equal("hello world", new StreamReader(decoded).ReadToEnd());
        Assert.Equal("DUoRhQ==", decoded.Trailers["x-amz-checksum-crc32"]);

        using var garbage = new AwsChunkedStream(new MemoryStream(Encoding.ASCII.GetBytes("zz\r\nhello\r\n")), context);
        Assert.Equal("InvalidRequest", Assert.Throws<AwsChunkedException>(() => garbage.CopyTo(Stream.Null)).Code);
    }

    private static byte[] ChunkedBody(params (int Size, string Signature)[] chunks)
    {
        var body = new MemoryStream();
        foreach ((int size, string signature) in chunks)
        {
            body.Write(Encoding.ASCII.GetBytes($"{size:x};chunk-signature={signature}\r\n"));
            body.Write(Enumerable.Repeat((byte)'a', size).ToArray());
            body.Write("\r\n"u8);
        }

        return body.ToArray();
    }
}
