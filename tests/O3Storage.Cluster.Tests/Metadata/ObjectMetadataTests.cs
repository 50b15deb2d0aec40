using System.Collections.Immutable;
using O3Storage.Cluster.Metadata;
using static O3Storage.Cluster.Tests.Metadata.MetadataSteps;

namespace O3Storage.Cluster.Tests.Metadata;

/// <summary>Buckets and object versions in the replicated state: apply rules, S3 key order, encoding.</summary>
public sealed class ObjectMetadataTests
{
    private static ObjectVersion Version(string key, long size = 11, string etag = "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"") => new(
        key,
        VersionIndex: 0,
        size,
        etag,
        "text/plain",
        CreatedUnixMs: 1_764_000_000_000,
        [KeyValuePair.Create("x-amz-meta-owner", "ada"), KeyValuePair.Create("x-amz-meta-ünï", "çødé")],
        size == 0 ? [] : [new BlobRef(UInt128.MaxValue - 7, size - (size / 2), 0xDEADBEEF), new BlobRef(42, size / 2, 1)],
        ["192.168.1.101:8080", "192.168.1.102:8080", "192.168.1.103:8080"]);

    private static void AssertSame(ObjectVersion expected, ObjectVersion actual)
    {
        Assert.Equal(
            (expected.Key, expected.VersionIndex, expected.SizeBytes, expected.ETag, expected.ContentType, expected.CreatedUnixMs),
            (actual.Key, actual.VersionIndex, actual.SizeBytes, actual.ETag, actual.ContentType, actual.CreatedUnixMs));
        Assert.Equal(expected.UserMetadata.Select(p => (p.Key, p.Value)), actual.UserMetadata.Select(p => (p.Key, p.Value)));
        Assert.Equal(expected.Blobs.ToArray(), actual.Blobs.ToArray());
        Assert.Equal(expected.Replicas.ToArray(), actual.Replicas.ToArray());
    }

    [Fact]
    public void Buckets_CreateIsIdempotent_DeleteOnlyWhenEmpty()
    {
        MetadataState state = Apply(MetadataState.Empty, new CreateBucket("photos", 1), new CreateBucket("photos", 2));
        Assert.Equal(1, state.Buckets["photos"].Info.CreatedUnixMs); // the first create wins
        Assert.Equal(1, state.Buckets["photos"].Info.CreatedAtIndex);

        state = Apply(state, new PutObject("photos", Version("a.jpg")), new DeleteBucket("photos"));
        Assert.True(state.Buckets.ContainsKey("photos"));

        state = Apply(state, new DeleteObject("photos", "a.jpg"), new DeleteObject("photos", "a.jpg"), new DeleteBucket("photos"), new DeleteBucket("photos"));
        Assert.Empty(state.Buckets);
        Assert.Equal(8, state.LastAppliedIndex);
    }

    [Fact]
    public void PutObject_TakesTheCommittingIndexAsItsVersion_AndReplacesTheCurrentOne()
    {
        MetadataState state = Apply(MetadataState.Empty, new CreateBucket("b", 1), new PutObject("b", Version("k", 11)));
        Assert.Equal(2, state.FindObject("b", "k")!.VersionIndex);

        state = Apply(state, new PutObject("b", Version("k", 20, "\"other\"")));
        Assert.Equal((3L, 20L, "\"other\""), (state.FindObject("b", "k")!.VersionIndex, state.FindObject("b", "k")!.SizeBytes, state.FindObject("b", "k")!.ETag));
        Assert.Single(state.Buckets["b"].Objects);

        MetadataState unchanged = Apply(state, new PutObject("gone", Version("k")));
        Assert.Null(unchanged.FindObject("gone", "k"));
        Assert.Same(state.Buckets, unchanged.Buckets);
    }

    [Fact]
    public void Keys_ListInUtf8ByteOrder_AsS3Does()
    {
        string[] keys = ["b", "a/", "a", "\uE000x", "\U0001F600", "a/b", "Z", "é"];
        MetadataState state = Apply(MetadataState.Empty, [new CreateBucket("b", 1), .. keys.Select(k => new PutObject("b", Version(k)))]);

        string[] expected = [.. keys.OrderBy(k => System.Text.Encoding.UTF8.GetBytes(k), Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y)))];
        Assert.Equal(expected, state.Buckets["b"].Objects.Keys);
        Assert.Equal(["Z", "a", "a/", "a/b", "b", "é", "\uE000x", "\U0001F600"], state.Buckets["b"].Objects.Keys);
    }

    [Fact]
    public void From_SeeksToAKey_InclusiveOrNot_AndPastTheEnd()
    {
        MetadataState state = Apply(MetadataState.Empty, [new CreateBucket("b", 1), .. new[] { "a", "c", "e" }.Select(k => new PutObject("b", Version(k)))]);
        ObjectIndex objects = state.Buckets["b"].Objects;
        Assert.Equal(["c", "e"], objects.From("c", inclusive: true).Select(v => v.Key));
        Assert.Equal(["e"], objects.From("c", inclusive: false).Select(v => v.Key));
        Assert.Equal(["c", "e"], objects.From("b", inclusive: false).Select(v => v.Key));
        Assert.Empty(objects.From("f", inclusive: true));
        Assert.Equal(["a", "c", "e"], objects.From(string.Empty, inclusive: true).Select(v => v.Key));
    }

    public static TheoryData<MetadataCommand> Commands => new()
    {
        new CreateBucket("my-bucket.2026", 1_764_000_000_000),
        new DeleteBucket("my-bucket.2026"),
        new DeleteObject("b", "photos/2026/ünïcødé key with spaces.jpg"),
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public void BucketAndDeleteCommands_RoundTrip(MetadataCommand command) =>
        Assert.Equal(command, MetadataCodec.Decode(MetadataCodec.Encode(command)));

    [Theory]
    [InlineData(0)]
    [InlineData(11)]
    [InlineData(64L * 1024 * 1024 * 1024)]
    public void PutObject_RoundTrips(long size)
    {
        var put = new PutObject("b", Version("dir/ké y", size));
        var decoded = Assert.IsType<PutObject>(MetadataCodec.Decode(MetadataCodec.Encode(put)));
        Assert.Equal("b", decoded.Bucket);
        AssertSame(put.Version, decoded.Version);
    }

    [Fact]
    public void PutObject_EveryTruncation_AndAWrongSize_AreFormatErrors()
    {
        byte[] record = MetadataCodec.Encode(new PutObject("b", Version("k", 11)));
        for (int length = 0; length < record.Length; length++)
        {
            Assert.Throws<MetadataFormatException>(() => MetadataCodec.Decode(record.AsSpan(0, length)));
        }

        byte[] lying = MetadataCodec.Encode(new PutObject("b", Version("k", 11) with { SizeBytes = 12 }));
        Assert.Contains("says 12 bytes but its blobs hold 11", Assert.Throws<MetadataFormatException>(() => MetadataCodec.Decode(lying)).Message);
    }

    [Fact]
    public void Snapshot_WithBucketsAndObjects_RoundTrips()
    {
        MetadataState state = Apply(
            MetadataState.Empty,
            new InitializeCluster(new ClusterSettings("lab", 3, ConsistencyLevel.Strong), Guid.NewGuid()),
            new AddMember("192.168.1.101:8080", "192.168.1.101:8090", Guid.NewGuid()),
            new CreateBucket("a", 5),
            new CreateBucket("empty", 6),
            new PutObject("a", Version("x")),
            new PutObject("a", Version("\U0001F600")),
            new PutObject("a", Version("\uE000", 0)));

        MetadataState decoded = MetadataCodec.DecodeSnapshot(MetadataCodec.EncodeSnapshot(state));
        Assert.Equal(state.LastAppliedIndex, decoded.LastAppliedIndex);
        Assert.Equal(state.Buckets.Keys, decoded.Buckets.Keys);
        Assert.Equal(state.Buckets["a"].Info, decoded.Buckets["a"].Info);
        Assert.Equal(state.Buckets["a"].Objects.Keys, decoded.Buckets["a"].Objects.Keys);
        foreach (ObjectVersion version in state.Buckets["a"].Objects)
        {
            AssertSame(version, decoded.Buckets["a"].Objects.Find(version.Key)!);
        }

        // The decoded state keeps S3 order for keys added after it.
        MetadataState later = decoded.Apply(new PutObject("a", Version("y")), decoded.LastAppliedIndex + 1);
        Assert.Equal(["x", "y", "\uE000", "\U0001F600"], later.Buckets["a"].Objects.Keys);
    }
}
