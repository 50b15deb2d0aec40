using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// o3ctl backup of a cluster that a writer keeps writing to, and o3ctl restore of it into a fresh
/// cluster: every object acknowledged before the backup began reads back byte for byte, with its ETag,
/// content type, user metadata and date; nothing that was never written appears. Then the refusals: a
/// damaged backup (nothing of the damaged object stored, the restore stopped), a restore into a cluster that holds objects,
/// and a tar archive restored with --resume that adds only what the first backup did not have.
/// </summary>
public sealed class BackupTests(ITestOutputHelper output)
{
    /// <summary>An object the test wrote; a null content type is whatever the S3 client sent (the restored one must equal the source's all the same).</summary>
    private sealed record Written(string Bucket, string Key, byte[] Bytes, string? ContentType, Dictionary<string, string> Metadata);

    [Fact]
    public async Task O3ctlBackup_UnderAWriterLoad_RestoredIntoAFreshCluster_EveryAcknowledgedObjectReadsBackByteForByte()
    {
        DirectoryInfo work = Directory.CreateTempSubdirectory("o3-it-backup-");
        try
        {
            await BackupAndRestoreAsync(work.FullName);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private async Task BackupAndRestoreAsync(string work)
    {
        using var keys = new KeyFile();
        using TestCluster source = await TestCluster.StartAsync(87, 3, output, "--api-keys", keys.Path);
        await source.WaitForAgreedLeaderAsync([1, 2, 3]);
        using var ctl = new O3ctl(output, source.Ip(2), keys.Admin);
        using AmazonS3Client s3 = KeyFile.Client(source, 1, keys.ReadWrite);

        // What is there before the load: several buckets (one empty), an empty object, one of several
        // blobs, a multipart one (its ETag is not an MD5), keys that need escaping, user metadata.
        var written = new Dictionary<(string, string), Written>();
        foreach (string bucket in new[] { "photos", "logs", "empty" })
        {
            await s3.PutBucketAsync(bucket);
        }

        var random = new Random(19);
        async Task PutAsync(string bucket, string key, int size, string type, Dictionary<string, string> metadata)
        {
            byte[] bytes = new byte[size];
            random.NextBytes(bytes);
            var request = new PutObjectRequest { BucketName = bucket, Key = key, InputStream = new MemoryStream(bytes), ContentType = type };
            foreach ((string name, string value) in metadata)
            {
                request.Metadata.Add(name, value);
            }

            await s3.PutObjectAsync(request);
            written[(bucket, key)] = new Written(bucket, key, bytes, type, metadata);
        }

        await PutAsync("photos", "2026/12/ümlaut ñ+%?#&=.jpg", 70_000, "image/jpeg", new() { ["camera"] = "pi-cam", ["taken"] = "2026-12-01" });
        await PutAsync("photos", "big.raw", (9 << 20) + 123, "application/octet-stream", []);
        await PutAsync("logs", "zero.log", 0, "text/plain", new() { ["note"] = "nothing yet" });
        byte[] partOne = RandomNumberGenerator.GetBytes(5 << 20);
        byte[] partTwo = RandomNumberGenerator.GetBytes(1 << 20);
        InitiateMultipartUploadResponse upload = await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = "logs", Key = "multi.bin", ContentType = "application/x-multi" });
        UploadPartResponse one = await s3.UploadPartAsync(new UploadPartRequest { BucketName = "logs", Key = "multi.bin", UploadId = upload.UploadId, PartNumber = 1, InputStream = new MemoryStream(partOne) });
        UploadPartResponse two = await s3.UploadPartAsync(new UploadPartRequest { BucketName = "logs", Key = "multi.bin", UploadId = upload.UploadId, PartNumber = 2, InputStream = new MemoryStream(partTwo) });
        await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = "logs", Key = "multi.bin", UploadId = upload.UploadId, PartETags = [new(1, one.ETag), new(2, two.ETag)] });
        written[("logs", "multi.bin")] = new Written("logs", "multi.bin", [.. partOne, .. partTwo], "application/x-multi", []);

        // The writer: new keys, one after another, each with the moment it was acknowledged.
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<string, (byte[] Bytes, long At)>();
        using var stop = new CancellationTokenSource();
        Task writer = Task.Run(async () =>
        {
            var load = new Random(7);
            for (int i = 0; i < 3000 && !stop.IsCancellationRequested; i++)
            {
                byte[] bytes = new byte[load.Next(1, 48 << 10)];
                load.NextBytes(bytes);
                string key = $"load/{i:D5}";
                await s3.PutObjectAsync(new PutObjectRequest { BucketName = "logs", Key = key, InputStream = new MemoryStream(bytes) });
                acknowledged[key] = (bytes, Stopwatch.GetTimestamp());
            }
        });
        await source.WaitUntilAsync("the writer has written", () => Task.FromResult(acknowledged.Count >= 150));

        long backupBegan = Stopwatch.GetTimestamp();
        string directory = Path.Combine(work, "backup");
        JsonElement backup = await ctl.JsonAsync(0, "backup", directory);
        long backupEnded = Stopwatch.GetTimestamp();
        int atBackup = acknowledged.Count;
        await source.WaitUntilAsync("the writer wrote on after the backup", () => Task.FromResult(acknowledged.Count >= atBackup + 20));
        await stop.CancelAsync();
        await writer;
        string snapshot = backup.GetProperty("snapshot").GetString()!;
        output.WriteLine($"backup: {backup}; the writer acknowledged {acknowledged.Count} objects, {acknowledged.Count(a => a.Value.At > backupBegan && a.Value.At < backupEnded)} of them while o3ctl backup ran");
        Assert.Matches(@"^backup-\d{8}_\d{6}$", snapshot);
        Assert.True(backup.GetProperty("snapshot_deleted").GetBoolean());
        Assert.DoesNotContain(snapshot, (await ctl.JsonAsync(0, "snapshot", "list")).GetRawText());
        Assert.Equal(3, backup.GetProperty("buckets").GetInt32());
        string[] before = [.. acknowledged.Where(a => a.Value.At < backupBegan).Select(a => a.Key)];
        Assert.True(before.Length >= 150);

        JsonElement verified = await ctl.JsonAsync(0, "restore", directory, "--verify-only");
        Assert.Equal(backup.GetProperty("objects").GetInt64(), verified.GetProperty("objects").GetInt64());

        // A damaged copy: one byte of the first object (logs/load/00000, not empty) flipped. --verify-only names it; a restore stores nothing of it.
        string damaged = Path.Combine(work, "damaged");
        CopyDirectory(directory, damaged);
        string firstData = Path.Combine(damaged, "objects", "00000001.data");
        using (JsonDocument firstMeta = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(damaged, "objects", "00000001.json"))))
        {
            string firstKey = firstMeta.RootElement.GetProperty("key").GetString()!;
            byte[] bytes = File.ReadAllBytes(firstData);
            bytes[bytes.Length / 2] ^= 0x40;
            File.WriteAllBytes(firstData, bytes);
            Assert.Contains(firstKey, (await ctl.RefusedAsync(1, "restore", damaged, "--verify-only")).GetProperty("error").GetString());

            using var keysB = new KeyFile();
            using TestCluster target = await TestCluster.StartAsync(88, 3, output, "--api-keys", keysB.Path);
            await target.WaitForAgreedLeaderAsync([1, 2, 3]);
            using var ctlB = new O3ctl(output, target.Ip(3), keysB.Admin);
            using AmazonS3Client s3B = KeyFile.Client(target, 1, keysB.ReadWrite);
            JsonElement refused = await ctlB.RefusedAsync(1, "restore", damaged);
            Assert.Contains("SHA-256", refused.GetProperty("error").GetString());
            string bucketOfFirst = firstMeta.RootElement.GetProperty("bucket").GetString()!;
            AmazonS3Exception absent = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3B.GetObjectMetadataAsync(bucketOfFirst, firstKey));
            Assert.Equal(System.Net.HttpStatusCode.NotFound, absent.StatusCode);

            // The backup as taken, with --resume: the damaged restore stopped at its first object, but imports
            // run several at a time, so a few that followed it may have landed.
            JsonElement restored = await ctlB.JsonAsync(0, "restore", directory, "--resume");
            Assert.Equal(backup.GetProperty("objects").GetInt64(), restored.GetProperty("imported").GetInt64() + restored.GetProperty("already_there").GetInt64());
            Assert.InRange(restored.GetProperty("already_there").GetInt64(), 0, 8);
            await CompareAsync(s3, s3B, written.Values, before.Select(k => new Written("logs", k, acknowledged[k].Bytes, null, [])), acknowledged);

            // One point in time: the writer wrote its keys in order, so the backup holds the first n of them, no gaps.
            ListObjectsV2Response loaded = await s3B.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "logs", Prefix = "load/", MaxKeys = 1000 });
            Assert.Equal([.. Enumerable.Range(0, loaded.S3Objects.Count).Select(i => $"load/{i:D5}")], loaded.S3Objects.Select(o => o.Key));
            Assert.Equal(backup.GetProperty("objects").GetInt64(), written.Count + loaded.S3Objects.Count);

            // Not again into a cluster that holds objects; a tar of a later snapshot with --resume adds only what is new.
            Assert.Contains("already holds", (await ctlB.RefusedAsync(1, "restore", directory)).GetProperty("error").GetString());
            Assert.Equal("created", (await ctl.JsonAsync(0, "snapshot", "create", "after-load")).GetProperty("status").GetString());
            string archive = Path.Combine(work, "after-load.tar");
            JsonElement tarred = await ctl.JsonAsync(0, "backup", archive, "--snapshot", "after-load");
            Assert.False(tarred.GetProperty("snapshot_deleted").GetBoolean());
            Assert.Contains("after-load", (await ctl.JsonAsync(0, "snapshot", "list")).GetRawText());
            long all = tarred.GetProperty("objects").GetInt64();
            Assert.Equal(written.Count + acknowledged.Count, all);
            JsonElement resumed = await ctlB.JsonAsync(0, "restore", archive, "--resume");
            Assert.Equal((all - backup.GetProperty("objects").GetInt64(), backup.GetProperty("objects").GetInt64()),
                (resumed.GetProperty("imported").GetInt64(), resumed.GetProperty("already_there").GetInt64()));
            await CompareAsync(s3, s3B, written.Values, acknowledged.Select(a => new Written("logs", a.Key, a.Value.Bytes, null, [])), acknowledged);
        }
    }

    /// <summary>
    /// Every expected object reads back from the restored cluster byte for byte, with the source's ETag,
    /// content type, metadata and date; and every object the restored cluster lists was written by the test.
    /// </summary>
    private async Task CompareAsync(AmazonS3Client from, AmazonS3Client to, IEnumerable<Written> seeded, IEnumerable<Written> loaded, System.Collections.Concurrent.ConcurrentDictionary<string, (byte[] Bytes, long At)> acknowledged)
    {
        int compared = 0;
        foreach (Written expected in seeded.Concat(loaded))
        {
            using GetObjectResponse original = await from.GetObjectAsync(expected.Bucket, expected.Key);
            using GetObjectResponse restored = await to.GetObjectAsync(expected.Bucket, expected.Key);
            using var bytes = new MemoryStream();
            await restored.ResponseStream.CopyToAsync(bytes);
            Assert.True(expected.Bytes.AsSpan().SequenceEqual(bytes.ToArray()), $"{expected.Bucket}/{expected.Key}: the restored bytes differ");
            Assert.Equal((original.ETag, original.Headers.ContentType, original.LastModified), (restored.ETag, restored.Headers.ContentType, restored.LastModified));
            Assert.Equal(expected.ContentType ?? original.Headers.ContentType, restored.Headers.ContentType);
            foreach ((string name, string value) in expected.Metadata)
            {
                Assert.Equal(value, restored.Metadata["x-amz-meta-" + name]);
            }

            compared++;
        }

        ListObjectsV2Response listed = await to.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "logs", Prefix = "load/", MaxKeys = 1000 });
        Assert.All(listed.S3Objects ?? [], o => Assert.True(acknowledged.ContainsKey(o.Key), $"{o.Key} was never written"));
        Assert.Empty((await to.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "empty" })).S3Objects ?? []);
        output.WriteLine($"{compared} objects read back byte for byte");
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string copy = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
    }
}
