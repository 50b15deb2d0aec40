using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>Who may do what, and what bad requests get: every role against every operation class, and malformed input that must store nothing.</summary>
public sealed class S3RequestTests(ITestOutputHelper output) : IDisposable
{
    private readonly KeyFile _keys = new();

    public void Dispose() => _keys.Dispose();


    /// <summary>A raw HTTP/1.1 exchange on a socket: what a broken or hostile client sends, byte for byte.</summary>
    private static async Task<string> RawAsync(TestCluster cluster, int node, byte[] request, bool closeAfterSend = false)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Parse(cluster.Ip(node)), TestCluster.ApiPort);
        await socket.SendAsync(request);
        if (closeAfterSend)
        {
            socket.Shutdown(SocketShutdown.Send);
        }

        var answer = new MemoryStream();
        byte[] buffer = new byte[8192];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            for (int read; (read = await socket.ReceiveAsync(buffer, timeout.Token)) > 0;)
            {
                answer.Write(buffer, 0, read);
                if (Encoding.ASCII.GetString(answer.ToArray()).Contains("</Error>", StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // The server may reset a connection whose request it refused: what it sent before counts.
        }

        return Encoding.UTF8.GetString(answer.ToArray());
    }

    [Fact]
    public async Task EveryRole_AgainstEveryOperationClass_AndBadCredentials()
    {
        using TestCluster cluster = await TestCluster.StartAsync(48, 3, output, "--api-keys", _keys.Path);
        using AmazonS3Client admin = KeyFile.Client(cluster, 1, _keys.Admin);
        using AmazonS3Client readWrite = KeyFile.Client(cluster, 2, _keys.ReadWrite);
        using AmazonS3Client readOnly = KeyFile.Client(cluster, 3, _keys.ReadOnly);
        await admin.PutBucketAsync("matrix");
        await admin.PutObjectAsync(new PutObjectRequest { BucketName = "matrix", Key = "seed", ContentBody = "seed" });

        // Reads: every role. Writes: admin and read-write only; read-only gets AccessDenied and changes nothing.
        foreach (AmazonS3Client client in new[] { admin, readWrite, readOnly })
        {
            Assert.Single((await client.ListBucketsAsync()).Buckets);
            Assert.Single((await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "matrix" })).S3Objects);
            Assert.Equal(4, (await client.GetObjectMetadataAsync("matrix", "seed")).ContentLength);
            using GetObjectResponse got = await client.GetObjectAsync("matrix", "seed");
            Assert.Empty((await client.ListMultipartUploadsAsync("matrix")).MultipartUploads ?? []);
        }

        foreach (AmazonS3Client writer in new[] { admin, readWrite })
        {
            await writer.PutObjectAsync(new PutObjectRequest { BucketName = "matrix", Key = "w", ContentBody = "x" });
            await writer.CopyObjectAsync("matrix", "w", "matrix", "w2");
            await writer.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = "matrix", Objects = [new KeyVersion { Key = "w2" }] });
            InitiateMultipartUploadResponse upload = await writer.InitiateMultipartUploadAsync("matrix", "mp");
            await writer.AbortMultipartUploadAsync("matrix", "mp", upload.UploadId);
            await writer.DeleteObjectAsync("matrix", "w");
        }

        (string, HttpStatusCode) denied = ("AccessDenied", HttpStatusCode.Forbidden);
        Assert.Equal(denied, await S3Assert.CodeOf(() => readOnly.PutObjectAsync(new PutObjectRequest { BucketName = "matrix", Key = "ro", ContentBody = "x" })));
        Assert.Equal(denied, await S3Assert.CodeOf(() => readOnly.DeleteObjectAsync("matrix", "seed")));
        Assert.Equal(denied, await S3Assert.CodeOf(() => readOnly.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = "matrix", Objects = [new KeyVersion { Key = "seed" }] })));
        Assert.Equal(denied, await S3Assert.CodeOf(() => readOnly.CopyObjectAsync("matrix", "seed", "matrix", "copy")));
        Assert.Equal(denied, await S3Assert.CodeOf(() => readOnly.InitiateMultipartUploadAsync("matrix", "mp")));
        Assert.Equal(denied, await S3Assert.CodeOf(() => readOnly.PutBucketAsync("another")));
        Assert.Equal(denied, await S3Assert.CodeOf(() => readOnly.DeleteBucketAsync("matrix")));
        Assert.Equal(["seed"], (await admin.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "matrix" })).S3Objects.Select(o => o.Key));

        // Bad credentials: 403 with S3's error XML, whatever the operation.
        using AmazonS3Client wrongSecret = KeyFile.Client(cluster, 1, new string('d', 64), KeyFile.AccessKeyId(_keys.ReadWrite));
        Assert.Equal(("SignatureDoesNotMatch", HttpStatusCode.Forbidden), await S3Assert.CodeOf(() => wrongSecret.PutObjectAsync(new PutObjectRequest { BucketName = "matrix", Key = "x", ContentBody = "x" })));
        Assert.Equal(("SignatureDoesNotMatch", HttpStatusCode.Forbidden), await S3Assert.CodeOf(() => wrongSecret.GetObjectAsync("matrix", "seed")));
        using AmazonS3Client unknown = KeyFile.Client(cluster, 2, new string('e', 64));
        Assert.Equal(("InvalidAccessKeyId", HttpStatusCode.Forbidden), await S3Assert.CodeOf(() => unknown.GetObjectAsync("matrix", "seed")));

        // Presigned URLs: a valid one works without credentials; an expired or tampered one is refused.
        using var http = new HttpClient();
        string url = await readOnly.GetPreSignedURLAsync(new GetPreSignedUrlRequest { BucketName = "matrix", Key = "seed", Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP });
        Assert.Equal("seed", await http.GetStringAsync(url));
        HttpResponseMessage tampered = await http.GetAsync(url.Replace("/seed", "/other", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Forbidden, tampered.StatusCode);
        Assert.Contains("<Code>SignatureDoesNotMatch</Code>", await tampered.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        string expired = await readOnly.GetPreSignedURLAsync(new GetPreSignedUrlRequest { BucketName = "matrix", Key = "seed", Expires = DateTime.UtcNow.AddSeconds(1), Protocol = Protocol.HTTP });
        await Task.Delay(TimeSpan.FromSeconds(2));
        HttpResponseMessage late = await http.GetAsync(expired);
        Assert.Equal(HttpStatusCode.Forbidden, late.StatusCode);
        Assert.Contains("<Code>AccessDenied</Code>", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        string presignedPut = await readOnly.GetPreSignedURLAsync(new GetPreSignedUrlRequest { BucketName = "matrix", Key = "ro", Verb = HttpVerb.PUT, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP });
        Assert.Equal(HttpStatusCode.Forbidden, (await http.PutAsync(presignedPut, new StringContent("x"))).StatusCode);

        // Bearer keys reach objects too (curl-friendly), by role.
        using var bearerPut = new HttpRequestMessage(HttpMethod.Put, $"http://{cluster.NodeId(1)}/matrix/bearer") { Content = new StringContent("b") };
        bearerPut.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _keys.ReadOnly);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(bearerPut)).StatusCode);
    }

    [Fact]
    public async Task BadInput_GetsS3Errors_AndStoresNothingHalf()
    {
        using TestCluster cluster = await TestCluster.StartAsync(49, 3, output); // authentication off: raw requests need no signature
        using var http = new HttpClient();
        string node1 = $"http://{cluster.NodeId(1)}";
        Assert.Equal(HttpStatusCode.OK, (await http.PutAsync($"{node1}/input", null)).StatusCode);

        async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode status, string code)
        {
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status && body.Contains($"<Code>{code}</Code>", StringComparison.Ordinal), $"expected {(int)status} {code}, got {(int)response.StatusCode} {body}");
        }

        // Content-MD5 that does not match, or is not an MD5.
        var mismatch = new ByteArrayContent("hello"u8.ToArray());
        mismatch.Headers.ContentMD5 = MD5.HashData("other"u8.ToArray());
        await ExpectAsync(await http.PutAsync($"{node1}/input/md5", mismatch), HttpStatusCode.BadRequest, "BadDigest");
        var notMd5 = new ByteArrayContent("hello"u8.ToArray());
        notMd5.Headers.TryAddWithoutValidation("Content-MD5", "bm90");
        await ExpectAsync(await http.PutAsync($"{node1}/input/md5", notMd5), HttpStatusCode.BadRequest, "InvalidDigest");
        var matching = new ByteArrayContent("hello"u8.ToArray());
        matching.Headers.ContentMD5 = MD5.HashData("hello"u8.ToArray());
        Assert.Equal(HttpStatusCode.OK, (await http.PutAsync($"{node1}/input/md5-ok", matching)).StatusCode);

        // Keys with "..", "." or NUL; invalid bucket names; over-long keys.
        foreach (string path in new[] { "/input/a/../b", "/input/a/%2E%2E/b", "/input/./b" })
        {
            // Raw: HttpClient would resolve the dot segments before sending.
            string dotted = await RawAsync(cluster, 1, Encoding.ASCII.GetBytes($"PUT {path} HTTP/1.1\r\nHost: {cluster.NodeId(1)}\r\nContent-Length: 1\r\n\r\nx"));
            Assert.True(dotted.StartsWith("HTTP/1.1 400", StringComparison.Ordinal) && dotted.Contains("<Code>InvalidArgument</Code>", StringComparison.Ordinal), $"{path}: {dotted}");
        }

        // A NUL in the path: the HTTP server refuses the request line itself (400, before any handler; no S3 body).
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PutAsync($"{node1}/input/nul%00key", new StringContent("x"))).StatusCode);
        await ExpectAsync(await http.PutAsync($"{node1}/input/{new string('k', 1025)}", new StringContent("x")), HttpStatusCode.BadRequest, "KeyTooLongError");
        await ExpectAsync(await http.PutAsync($"{node1}/Bad_Bucket", null), HttpStatusCode.BadRequest, "InvalidBucketName");
        await ExpectAsync(await http.PutAsync($"{node1}/missing-bucket/k", new StringContent("x")), HttpStatusCode.NotFound, "NoSuchBucket");
        await ExpectAsync(await http.GetAsync($"{node1}/input/never-written"), HttpStatusCode.NotFound, "NoSuchKey");

        // Malformed XML bodies.
        await ExpectAsync(await http.PostAsync($"{node1}/input?delete", new StringContent("<Delete><Object><Key>a</Key>")), HttpStatusCode.BadRequest, "MalformedXML");
        await ExpectAsync(await http.PostAsync($"{node1}/input?delete", new StringContent("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><Delete><Object><Key>&e;</Key></Object></Delete>")), HttpStatusCode.BadRequest, "MalformedXML");
        string created = await (await http.PostAsync($"{node1}/input/mp?uploads", null)).Content.ReadAsStringAsync();
        string uploadId = created[(created.IndexOf("<UploadId>", StringComparison.Ordinal) + 10)..created.IndexOf("</UploadId>", StringComparison.Ordinal)];
        await ExpectAsync(await http.PostAsync($"{node1}/input/mp?uploadId={uploadId}", new StringContent("<CompleteMultipartUpload><Part>")), HttpStatusCode.BadRequest, "MalformedXML");
        await ExpectAsync(await http.PostAsync($"{node1}/input/mp?uploadId={uploadId}", new StringContent("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag></Part></CompleteMultipartUpload>")), HttpStatusCode.BadRequest, "InvalidPart");
        await ExpectAsync(await http.PutAsync($"{node1}/input/mp?partNumber=0&uploadId={uploadId}", new StringContent("x")), HttpStatusCode.BadRequest, "InvalidArgument");
        await ExpectAsync(await http.PutAsync($"{node1}/input/mp?partNumber=1&uploadId=nope", new StringContent("x")), HttpStatusCode.NotFound, "NoSuchUpload");

        // Truncated bodies: a client that promises more than it sends (then goes away) stores nothing.
        string truncated = await RawAsync(cluster, 2, Encoding.ASCII.GetBytes($"PUT /input/truncated HTTP/1.1\r\nHost: {cluster.NodeId(2)}\r\nContent-Length: 100000\r\n\r\n{new string('x', 5000)}"), closeAfterSend: true);
        output.WriteLine($"truncated PUT answered: {truncated.Split('\n')[0]}");
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"{node1}/input/truncated")).StatusCode);
        // A body of unknown length (chunked, no Content-Length): S3's MissingContentLength, like S3 itself.
        string unsized = await RawAsync(cluster, 2, Encoding.ASCII.GetBytes($"PUT /input/unsized HTTP/1.1\r\nHost: {cluster.NodeId(2)}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
        Assert.True(unsized.StartsWith("HTTP/1.1 411", StringComparison.Ordinal) && unsized.Contains("<Code>MissingContentLength</Code>", StringComparison.Ordinal), unsized);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"{node1}/input/unsized")).StatusCode);

        // Oversized headers: refused before any handler runs, and the node keeps serving.
        string huge = await RawAsync(cluster, 3, Encoding.ASCII.GetBytes($"GET /input HTTP/1.1\r\nHost: {cluster.NodeId(3)}\r\nX-Big: {new string('h', 40_000)}\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 431", huge, StringComparison.Ordinal);

        // Range beyond the end; a listing shows only what succeeded.
        using var range = new HttpRequestMessage(HttpMethod.Get, $"{node1}/input/md5-ok");
        range.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(100, 200);
        await ExpectAsync(await http.SendAsync(range), HttpStatusCode.RequestedRangeNotSatisfiable, "InvalidRange");
        string listing = await http.GetStringAsync($"http://{cluster.NodeId(3)}/input?list-type=2");
        Assert.Contains("<Key>md5-ok</Key>", listing, StringComparison.Ordinal);
        Assert.Equal(1, listing.Split("<Key>").Length - 1);
    }
}
