using System.Net;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>Objects through the AWS SDK for .NET, unmodified, on a 3-node cluster with the guide's api-keys.txt.</summary>
public sealed class S3ObjectTests(ITestOutputHelper output) : IDisposable
{
    private readonly KeyFile _keys = new();

    public void Dispose() => _keys.Dispose();

    private static byte[] Bytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static async Task<byte[]> GetAsync(AmazonS3Client client, string bucket, string key, ByteRange? range = null)
    {
        using GetObjectResponse response = await client.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = key, ByteRange = range });
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return copy.ToArray();
    }


    [Fact]
    public async Task Objects_WrittenOnOneNode_ReadOnEvery_WithRangesMetadataCopyDeleteAndMultipart()
    {
        using TestCluster cluster = await TestCluster.StartAsync(44, 3, output, "--api-keys", _keys.Path);
        using AmazonS3Client one = KeyFile.Client(cluster, 1, _keys.ReadWrite);
        using AmazonS3Client two = KeyFile.Client(cluster, 2, _keys.ReadWrite);
        using AmazonS3Client three = KeyFile.Client(cluster, 3, _keys.ReadOnly);
        await one.PutBucketAsync("data");

        // Small and multi-blob objects (4 MiB blobs), with metadata; strong reads on every node at once.
        byte[] small = Bytes(1000, 1);
        byte[] large = Bytes((9 << 20) + 123, 2);
        var put = new PutObjectRequest { BucketName = "data", Key = "dir/small.bin", InputStream = new MemoryStream(small), ContentType = "application/x-test" };
        put.Metadata.Add("owner", "ada");
        PutObjectResponse written = await one.PutObjectAsync(put);
        Assert.Equal($"\"{Convert.ToHexStringLower(MD5.HashData(small))}\"", written.ETag);
        await one.PutObjectAsync(new PutObjectRequest { BucketName = "data", Key = "dir/large.bin", InputStream = new MemoryStream(large) });
        foreach (AmazonS3Client reader in new[] { one, two, three })
        {
            Assert.Equal(small, await GetAsync(reader, "data", "dir/small.bin"));
            Assert.Equal(large, await GetAsync(reader, "data", "dir/large.bin"));
        }

        GetObjectMetadataResponse head = await three.GetObjectMetadataAsync("data", "dir/small.bin");
        Assert.Equal((1000L, "application/x-test", "ada", written.ETag), (head.ContentLength, head.Headers.ContentType, head.Metadata["owner"], head.ETag));

        // Ranges, including one across a blob boundary and a suffix.
        Assert.Equal(large[((4 << 20) - 10)..((4 << 20) + 10)], await GetAsync(two, "data", "dir/large.bin", new ByteRange((4 << 20) - 10, (4 << 20) + 9)));
        Assert.Equal(large[^100..], await GetAsync(three, "data", "dir/large.bin", new ByteRange("bytes=-100")));
        Assert.Equal(("InvalidRange", HttpStatusCode.RequestedRangeNotSatisfiable), await S3Assert.CodeOf(() => GetAsync(two, "data", "dir/small.bin", new ByteRange(5000, 6000))));

        // Overwrite: the new bytes everywhere at once.
        byte[] newer = Bytes(2000, 3);
        await two.PutObjectAsync(new PutObjectRequest { BucketName = "data", Key = "dir/small.bin", InputStream = new MemoryStream(newer) });
        Assert.Equal(newer, await GetAsync(one, "data", "dir/small.bin"));
        Assert.Equal(newer, await GetAsync(three, "data", "dir/small.bin"));

        // Copy (metadata copied or replaced), then deleting the source leaves the copy whole.
        CopyObjectResponse copied = await one.CopyObjectAsync(new CopyObjectRequest { SourceBucket = "data", SourceKey = "dir/large.bin", DestinationBucket = "data", DestinationKey = "copy/large.bin" });
        Assert.Equal(HttpStatusCode.OK, copied.HttpStatusCode);
        var replace = new CopyObjectRequest { SourceBucket = "data", SourceKey = "dir/small.bin", DestinationBucket = "data", DestinationKey = "dir/small.bin", MetadataDirective = S3MetadataDirective.REPLACE, ContentType = "text/plain" };
        replace.Metadata.Add("state", "replaced");
        await two.CopyObjectAsync(replace);
        Assert.Equal("replaced", (await three.GetObjectMetadataAsync("data", "dir/small.bin")).Metadata["state"]);
        await one.DeleteObjectAsync("data", "dir/large.bin");
        Assert.Equal(("NoSuchKey", HttpStatusCode.NotFound), await S3Assert.CodeOf(() => GetAsync(two, "data", "dir/large.bin")));
        Assert.Equal(large, await GetAsync(three, "data", "copy/large.bin"));

        // DeleteObjects; listing shows what is left.
        await one.PutObjectAsync(new PutObjectRequest { BucketName = "data", Key = "tmp/a", ContentBody = "a" });
        await one.PutObjectAsync(new PutObjectRequest { BucketName = "data", Key = "tmp/b", ContentBody = "b" });
        DeleteObjectsResponse deleted = await two.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = "data", Objects = [new KeyVersion { Key = "tmp/a" }, new KeyVersion { Key = "tmp/b" }, new KeyVersion { Key = "tmp/never" }] });
        Assert.Equal(["tmp/a", "tmp/b", "tmp/never"], deleted.DeletedObjects.Select(d => d.Key).Order());
        ListObjectsV2Response listed = await three.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "data" });
        Assert.Equal(["copy/large.bin", "dir/small.bin"], listed.S3Objects.Select(o => o.Key));
        Assert.Equal([large.Length, 2000L], listed.S3Objects.Select(o => o.Size ?? 0));

        // Multipart: parts on different nodes, listed, completed; S3's ETag; an aborted upload is gone.
        InitiateMultipartUploadResponse started = await one.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = "data", Key = "mp/object" });
        byte[] part1 = Bytes(5 << 20, 4);
        byte[] part2 = Bytes(1234, 5);
        UploadPartResponse up1 = await two.UploadPartAsync(new UploadPartRequest { BucketName = "data", Key = "mp/object", UploadId = started.UploadId, PartNumber = 1, InputStream = new MemoryStream(part1) });
        UploadPartResponse up2 = await one.UploadPartAsync(new UploadPartRequest { BucketName = "data", Key = "mp/object", UploadId = started.UploadId, PartNumber = 2, InputStream = new MemoryStream(part2) });
        ListPartsResponse parts = await three.ListPartsAsync(new ListPartsRequest { BucketName = "data", Key = "mp/object", UploadId = started.UploadId });
        Assert.Equal([1, 2], parts.Parts.Select(p => p.PartNumber ?? 0));
        ListMultipartUploadsResponse uploads = await three.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = "data" });
        Assert.Equal([started.UploadId], uploads.MultipartUploads.Select(u => u.UploadId));
        Assert.Equal(("EntityTooSmall", HttpStatusCode.BadRequest), await S3Assert.CodeOf(() => two.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = "data",
            Key = "mp/object",
            UploadId = started.UploadId,
            PartETags = [new PartETag(2, up2.ETag), new PartETag(3, up2.ETag)],
        })));
        CompleteMultipartUploadResponse completed = await two.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = "data",
            Key = "mp/object",
            UploadId = started.UploadId,
            PartETags = [new PartETag(1, up1.ETag), new PartETag(2, up2.ETag)],
        });
        byte[] partMd5s = MD5.HashData(part1).Concat(MD5.HashData(part2)).ToArray();

        // A retried completion (its answer lost) succeeds with the same ETag instead of NoSuchUpload.
        CompleteMultipartUploadResponse retried = await one.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = "data",
            Key = "mp/object",
            UploadId = started.UploadId,
            PartETags = [new PartETag(1, up1.ETag), new PartETag(2, up2.ETag)],
        });
        Assert.Equal(completed.ETag, retried.ETag);
        Assert.Equal($"\"{Convert.ToHexStringLower(MD5.HashData(partMd5s))}-2\"", completed.ETag);
        byte[] whole = await GetAsync(three, "data", "mp/object");
        Assert.Equal(part1.Concat(part2).ToArray(), whole);
        Assert.Equal(("NoSuchUpload", HttpStatusCode.NotFound), await S3Assert.CodeOf(() => one.ListPartsAsync(new ListPartsRequest { BucketName = "data", Key = "mp/object", UploadId = started.UploadId })));

        InitiateMultipartUploadResponse abandoned = await two.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = "data", Key = "mp/abandoned" });
        await one.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = "data", Key = "mp/abandoned", UploadId = abandoned.UploadId });
        Assert.Empty((await three.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = "data" })).MultipartUploads ?? []);
        Assert.Equal(("NoSuchUpload", HttpStatusCode.NotFound), await S3Assert.CodeOf(() => one.UploadPartAsync(new UploadPartRequest { BucketName = "data", Key = "mp/abandoned", UploadId = abandoned.UploadId, PartNumber = 1, InputStream = new MemoryStream(part2) })));

        // Conditional GET.
        using (var http = new HttpClient())
        {
            using var conditional = new HttpRequestMessage(HttpMethod.Get, $"http://{cluster.NodeId(2)}/data/dir/small.bin");
            conditional.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _keys.ReadOnly);
            conditional.Headers.TryAddWithoutValidation("If-None-Match", (await one.GetObjectMetadataAsync("data", "dir/small.bin")).ETag);
            Assert.Equal(HttpStatusCode.NotModified, (await http.SendAsync(conditional)).StatusCode);
        }

        // A bucket with objects cannot be deleted; emptied, it can.
        Assert.Equal(("BucketNotEmpty", HttpStatusCode.Conflict), await S3Assert.CodeOf(() => one.DeleteBucketAsync("data")));
    }
}
