using O3Storage.Cluster.Metadata;
using static O3Storage.Cluster.Tests.Metadata.MetadataSteps;

namespace O3Storage.Cluster.Tests.Metadata;

/// <summary>Multipart uploads in the replicated state: apply rules and encoding (commands and snapshot format 3).</summary>
public sealed class MultipartMetadataTests
{
    private static MultipartUpload Upload(string id, string key = "big.iso") =>
        new(id, key, 1_764_000_000_000, "application/x-iso9660-image", [KeyValuePair.Create("owner", "ada")], MultipartUpload.NoParts);

    private static UploadedPart Part(int number, long size = 10) =>
        new(number, $"\"e{number}\"", size, 1_764_000_000_001, [new BlobRef((UInt128)(1000 + number), size, (uint)number)], ["n1:8080", "n2:8080"]);

    private static ObjectVersion Completed(string key) =>
        new(key, 0, 20, "\"x-2\"", "t", 5, [], [new BlobRef(1001, 10, 1), new BlobRef(1002, 10, 2)], ["n1:8080"]);

    [Fact]
    public void Upload_Parts_ReplaceByNumber_CompleteMakesTheObject_AndEndsTheUpload()
    {
        MetadataState state = Apply(
            MetadataState.Empty,
            new CreateBucket("b", 1),
            new CreateMultipartUpload("b", Upload("u1")),
            new PutPart("b", "u1", Part(2)),
            new PutPart("b", "u1", Part(1)),
            new PutPart("b", "u1", Part(2, 20)));
        MultipartUpload upload = state.Buckets["b"].Uploads["u1"];
        Assert.Equal([1, 2], upload.Parts.Keys);
        Assert.Equal(20, upload.Parts[2].SizeBytes);

        state = Apply(state, new CompleteMultipartUpload("b", "u1", Completed("big.iso")));
        Assert.Empty(state.Buckets["b"].Uploads);
        Assert.Equal(6, state.FindObject("b", "big.iso")!.VersionIndex);

        // Completing or adding to an upload that is gone changes nothing.
        MetadataState after = Apply(state, new CompleteMultipartUpload("b", "u1", Completed("other")), new PutPart("b", "u1", Part(3)));
        Assert.Null(after.FindObject("b", "other"));
        Assert.Empty(after.Buckets["b"].Uploads);
    }

    [Fact]
    public void Abort_DropsTheUpload_CreateIsIdempotent_AndAGoneBucketIgnoresAll()
    {
        MetadataState state = Apply(
            MetadataState.Empty,
            new CreateBucket("b", 1),
            new CreateMultipartUpload("b", Upload("u1")),
            new PutPart("b", "u1", Part(1)),
            new CreateMultipartUpload("b", Upload("u1", "another-key")));
        Assert.Equal(("big.iso", 1), (state.Buckets["b"].Uploads["u1"].Key, state.Buckets["b"].Uploads["u1"].Parts.Count));

        state = Apply(state, new AbortMultipartUpload("b", "u1"), new AbortMultipartUpload("b", "u1"));
        Assert.Empty(state.Buckets["b"].Uploads);

        MetadataState untouched = Apply(state, new CreateMultipartUpload("gone", Upload("u2")), new AbortMultipartUpload("gone", "u2"));
        Assert.Same(state.Buckets, untouched.Buckets);
    }


    [Fact]
    public void Commands_RoundTrip()
    {
        var create = Assert.IsType<CreateMultipartUpload>(MetadataCodec.Decode(MetadataCodec.Encode(new CreateMultipartUpload("b", Upload("u1")))));
        Assert.Equal(("b", "u1", "big.iso", "application/x-iso9660-image"), (create.Bucket, create.Upload.UploadId, create.Upload.Key, create.Upload.ContentType));
        Assert.Equal([KeyValuePair.Create("owner", "ada")], create.Upload.UserMetadata.ToArray());

        var part = Assert.IsType<PutPart>(MetadataCodec.Decode(MetadataCodec.Encode(new PutPart("b", "u1", Part(7)))));
        Assert.Equal((7, "\"e7\"", 10L), (part.Part.PartNumber, part.Part.ETag, part.Part.SizeBytes));
        Assert.Equal(Part(7).Blobs.ToArray(), part.Part.Blobs.ToArray());
        Assert.Equal(Part(7).Replicas.ToArray(), part.Part.Replicas.ToArray());

        var complete = Assert.IsType<CompleteMultipartUpload>(MetadataCodec.Decode(MetadataCodec.Encode(new CompleteMultipartUpload("b", "u1", Completed("k")))));
        Assert.Equal(("u1", "k", 2), (complete.UploadId, complete.Version.Key, complete.Version.Blobs.Length));

        Assert.Equal(new AbortMultipartUpload("b", "u1"), MetadataCodec.Decode(MetadataCodec.Encode(new AbortMultipartUpload("b", "u1"))));

        byte[] lying = MetadataCodec.Encode(new PutPart("b", "u1", Part(1) with { SizeBytes = 11 }));
        Assert.Throws<MetadataFormatException>(() => MetadataCodec.Decode(lying));
    }

    [Fact]
    public void Snapshot_KeepsUploadsAndTheirParts()
    {
        MetadataState state = Apply(
            MetadataState.Empty,
            new CreateBucket("b", 1),
            new CreateMultipartUpload("b", Upload("u1")),
            new CreateMultipartUpload("b", Upload("u2", "other")),
            new PutPart("b", "u1", Part(1)),
            new PutPart("b", "u1", Part(3)));
        MetadataState decoded = MetadataCodec.DecodeSnapshot(MetadataCodec.EncodeSnapshot(state));
        Assert.Equal(["u1", "u2"], decoded.Buckets["b"].Uploads.Keys);
        Assert.Equal([1, 3], decoded.Buckets["b"].Uploads["u1"].Parts.Keys);
        Assert.Equal("other", decoded.Buckets["b"].Uploads["u2"].Key);
        Assert.Equal(Part(3).Blobs.ToArray(), decoded.Buckets["b"].Uploads["u1"].Parts[3].Blobs.ToArray());
    }

    [Fact]
    public void ObjectsPerReplica_FollowPutsOverwritesDeletesCompletes_AndSnapshots()
    {
        ObjectVersion On(string key, params string[] replicas) => Completed(key) with { Replicas = [.. replicas] };
        MetadataState state = Apply(
            MetadataState.Empty,
            new CreateBucket("b", 1),
            new PutObject("b", On("x", "n1", "n2")),
            new PutObject("b", On("y", "n2", "n3")),
            new PutObject("b", On("x", "n3")),
            new CreateMultipartUpload("b", Upload("u1", "z")),
            new PutPart("b", "u1", Part(1)),
            new PutPart("b", "u1", Part(2)),
            new CompleteMultipartUpload("b", "u1", On("z", "n1")),
            new PutObject("gone", On("w", "n1")));
        Assert.Equal([("n1", 1L), ("n2", 1L), ("n3", 2L)], state.ObjectsByReplica.OrderBy(p => p.Key).Select(p => (p.Key, p.Value)));
        Assert.Equal(state.ObjectsByReplica.OrderBy(p => p.Key), MetadataCodec.DecodeSnapshot(MetadataCodec.EncodeSnapshot(state)).ObjectsByReplica.OrderBy(p => p.Key));

        state = Apply(state, new DeleteObject("b", "x"), new DeleteObject("b", "z"), new DeleteObject("b", "z"));
        Assert.Equal([("n2", 1L), ("n3", 1L)], state.ObjectsByReplica.OrderBy(p => p.Key).Select(p => (p.Key, p.Value)));
    }

    [Fact]
    public void Batch_AppliesItsCommandsInOrderAtOneIndex_RoundTrips_AndRefusesWhatItMayNotHold()
    {
        var batch = new Batch([new CreateBucket("b", 1), new PutObject("b", Completed("x")), new PutObject("b", Completed("x") with { ETag = "\"second\"" }), new DeleteObject("b", "missing")]);
        MetadataState state = MetadataState.Empty.Apply(MetadataCodec.Decode(MetadataCodec.Encode(batch)), 5);
        Assert.Equal(5, state.LastAppliedIndex);
        Assert.Equal(("\"second\"", 5L), (state.FindObject("b", "x")!.ETag, state.FindObject("b", "x")!.VersionIndex));
        Assert.Equal(1, state.ObjectsByReplica["n1:8080"]);

        Assert.Throws<ArgumentOutOfRangeException>(() => MetadataCodec.Encode(new Batch([new AddMember("n", "e", Guid.NewGuid())])));
        Assert.Throws<ArgumentOutOfRangeException>(() => MetadataCodec.Encode(new Batch([batch])));
        byte[] encoded = MetadataCodec.Encode(batch);
        for (int length = 0; length < encoded.Length; length++)
        {
            Assert.Throws<MetadataFormatException>(() => MetadataCodec.Decode(encoded.AsSpan(0, length)));
        }
    }

    [Fact]
    public void PutCopy_AppliesOnlyWhileItsSourceVersionIsCurrent_AndRoundTrips()
    {
        MetadataState state = Apply(MetadataState.Empty, new CreateBucket("b", 1), new PutObject("b", Completed("src")));
        long sourceVersion = state.FindObject("b", "src")!.VersionIndex;
        var copy = new PutCopy("b", Completed("dst"), "b", "src", sourceVersion);
        Assert.Equal(copy.SourceVersionIndex, Assert.IsType<PutCopy>(MetadataCodec.Decode(MetadataCodec.Encode(copy))).SourceVersionIndex);

        Assert.NotNull(Apply(state, copy).FindObject("b", "dst"));
        Assert.Null(Apply(state, new DeleteObject("b", "src"), copy).FindObject("b", "dst")); // its blobs are garbage now
        Assert.Null(Apply(state, new PutObject("b", Completed("src")), copy).FindObject("b", "dst")); // overwritten: ditto
    }

    [Fact]
    public void Complete_IsANoOp_WhenAChosenPartWasUploadedAgain()
    {
        MetadataState state = Apply(MetadataState.Empty, new CreateBucket("b", 1), new CreateMultipartUpload("b", Upload("u1")), new PutPart("b", "u1", Part(1)), new PutPart("b", "u1", Part(2)));
        ObjectVersion assembled = Completed("big.iso"); // blobs 1001 and 1002: those of parts 1 and 2
        MetadataState replaced = Apply(state, new PutPart("b", "u1", Part(2) with { Blobs = [new BlobRef(9999, 10, 0)] }), new CompleteMultipartUpload("b", "u1", assembled));
        Assert.Null(replaced.FindObject("b", "big.iso"));
        Assert.Single(replaced.Buckets["b"].Uploads);
        Assert.NotNull(Apply(state, new CompleteMultipartUpload("b", "u1", assembled)).FindObject("b", "big.iso"));
    }
}
