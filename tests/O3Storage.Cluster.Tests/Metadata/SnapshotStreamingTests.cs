using System.Collections.Immutable;
using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Tests.Metadata;

/// <summary>A snapshot is written in chunks and read through a window of its stream, never whole in memory.</summary>
public sealed class SnapshotStreamingTests
{
    private static readonly string[] s_nodes = ["127.0.0.1:8080", "127.0.0.2:8080", "127.0.0.3:8080"];

    [Fact]
    public void EncodeSnapshotChunks_ALargeState_ComesInChunksOfAboutAMiBThatMakeTheWholeSnapshot()
    {
        MetadataState state = State(objects: 30_000);

        var chunks = MetadataCodec.EncodeSnapshotChunks(state).Select(c => c.ToArray()).ToList();

        Assert.True(chunks.Count >= 3, $"{chunks.Count} chunks");
        Assert.All(chunks[..^1], c => Assert.InRange(c.Length, MetadataCodec.SnapshotChunkBytes, MetadataCodec.SnapshotChunkBytes + (64 << 10)));
        Assert.Equal(MetadataCodec.EncodeSnapshot(state), chunks.SelectMany(c => c).ToArray());
    }

    [Theory]
    [InlineData(64, int.MaxValue)] // every record larger than the window: it grows
    [InlineData(4096, 7)] // a stream that hands out a few bytes per read
    [InlineData(SnapshotSource.WindowBytesDefault, int.MaxValue)]
    public void DecodeSnapshot_ThroughAWindowOfTheStream_ReadsBackTheSameState(int windowBytes, int bytesPerRead)
    {
        MetadataState state = State(objects: 3_000);
        byte[] snapshot = MetadataCodec.EncodeSnapshot(state);

        MetadataState decoded = MetadataCodec.DecodeSnapshot(new SnapshotSource(new TrickleStream(snapshot, bytesPerRead), windowBytes));

        Assert.Equal(snapshot, MetadataCodec.EncodeSnapshot(decoded));
        Assert.Equal(3_001, decoded.Buckets["photos"].Objects.Count);
        Assert.Equal(2_000, decoded.Buckets["photos"].Uploads.Single().Value.Parts.Count);
        Assert.Equal(3_001, decoded.Snapshots["before-cleanup"].Buckets["photos"].Objects.Count);
    }

    [Fact]
    public void DecodeSnapshot_StreamEndingAnywhere_IsATruncatedFormatError()
    {
        byte[] snapshot = MetadataCodec.EncodeSnapshot(State(objects: 200));
        var random = new Random(2112);
        for (int i = 0; i < 200; i++)
        {
            int length = random.Next(snapshot.Length);
            var error = Assert.Throws<MetadataFormatException>(() => MetadataCodec.DecodeSnapshot(new SnapshotSource(new MemoryStream(snapshot, 0, length), windowBytes: 64)));
            Assert.True(error.Truncated, $"cut at {length}: {error.Message}");
        }
    }

    [Fact]
    public void DecodeSnapshot_BytesAfterTheEnd_AreAFormatError()
    {
        byte[] snapshot = [.. MetadataCodec.EncodeSnapshot(State(objects: 10)), 0];

        var error = Assert.Throws<MetadataFormatException>(() => MetadataCodec.DecodeSnapshot(new SnapshotSource(new MemoryStream(snapshot), windowBytes: 64)));
        Assert.Contains("trailing bytes", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A state with every section a snapshot holds: <paramref name="objects"/> objects and one with 30 KiB of
    /// metadata, a 2000-part upload (a record of about 300 KB), a named snapshot, a removed member, keys.
    /// </summary>
    private static MetadataState State(int objects)
    {
        var versions = Enumerable.Range(0, objects).Select(n => Version($"host-{n % 7}/snapshots/{n / 1000:D5}/data-{n:D9}.pack", n + 10, [])).ToList();
        versions.Add(Version("large-metadata", 5, [KeyValuePair.Create("x-amz-meta-notes", new string('n', 30_000))]));
        var parts = Enumerable.Range(1, 2000).ToImmutableSortedDictionary(
            n => n,
            n => new UploadedPart(n, $"\"{n:x32}\"", 1 << 20, 1_700_000_000_000 + n, [new BlobRef((UInt128)n, 1 << 20, (uint)n)], [.. s_nodes]));
        var upload = new MultipartUpload("upload-1", "disk.img", 1_700_000_000_000, "application/octet-stream", [], parts);
        var bucket = new BucketState(new BucketRecord("photos", 1_700_000_000_000, 4), ObjectIndex.Create(versions))
        {
            Uploads = BucketState.NoUploads.Add(upload.UploadId, upload),
        };
        var buckets = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("photos", bucket)]);
        return MetadataState.Create(
            objects + 100,
            Guid.NewGuid(),
            new ClusterSettings("lab", 3, ConsistencyLevel.Strong),
            s_nodes.Select((id, i) => new MemberRecord(id, id.Replace(":8080", ":8090", StringComparison.Ordinal), Guid.NewGuid(), i + 1)),
            [bucket],
            removed: [new RemovedMember("127.0.0.9:8080", Guid.NewGuid(), 7, 1_700_000_000_000)],
            snapshots: [new NamespaceSnapshot("before-cleanup", 1_700_000_000_000, objects + 50, buckets)],
            clusterLevel: 4,
            apiKeys: [KeyValuePair.Create("guide", ImmutableArray.Create(new ClusterKey(ClusterKey.RoleMax, "secret-of-forty-characters-0123456789ab", "AKIDEXAMPLE")))]);
    }

    private static ObjectVersion Version(string key, long index, ImmutableArray<KeyValuePair<string, string>> metadata) =>
        new(key, index, 4096, $"{index:x32}", "application/octet-stream", 1_700_000_000_000 + index, metadata, [new BlobRef((UInt128)index, 4096, (uint)index)], [.. s_nodes]);

    /// <summary>A stream that returns at most <paramref name="bytesPerRead"/> bytes from each read, as pipes and sockets may.</summary>
    private sealed class TrickleStream(byte[] data, int bytesPerRead) : MemoryStream(data, writable: false)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, bytesPerRead));
    }
}
