using System.Collections.Immutable;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Data;
using O3Storage.Storage;

namespace O3Storage.Node.Tests.Data;

public sealed class LiveBlobsTests
{
    private static readonly BlobId s_a = new(1);
    private static readonly BlobId s_b = new(2);
    private static readonly BlobId s_c = new(3);

    [Fact]
    public void Live_IsWhatVersionsAndPartsListingThisNodeReferTo()
    {
        MetadataState state = MetadataState.Empty
            .Apply(new CreateBucket("b", 1), 1)
            .Apply(new PutObject("b", new ObjectVersion("k", 0, 2, "e", "t", 0, [], [new BlobRef(1, 1, 0), new BlobRef(2, 1, 0)], ["n1", "n2"])), 2)
            .Apply(new PutObject("b", new ObjectVersion("other", 0, 1, "e", "t", 0, [], [new BlobRef(3, 1, 0)], ["n2"])), 3)
            .Apply(new CreateMultipartUpload("b", new MultipartUpload("u", "m", 0, "t", [], MultipartUpload.NoParts)), 4)
            .Apply(new PutPart("b", "u", new UploadedPart(1, "e", 1, 0, [new BlobRef(4, 1, 0)], ["n1"])), 5);
        Assert.Equal([s_a, s_b, new BlobId(4)], Live(new LiveBlobs("n1").Exact(state)));
        Assert.Equal([s_a, s_b, s_c], Live(new LiveBlobs("n2").Exact(state)));
        Assert.Empty(Live(new LiveBlobs("n3").Exact(state)));
    }

    [Fact]
    public void Live_AlsoKeepsWhatASnapshotReferTo_UntilTheSnapshotIsDeleted_WalkingEveryObjectWhileOneIsKept()
    {
        var live = new LiveBlobs("n1");
        MetadataState state = MetadataState.Empty
            .Apply(new CreateBucket("b", 1), 1)
            .Apply(new PutObject("b", new ObjectVersion("k", 0, 1, "e", "t", 0, [], [new BlobRef(1, 1, 0)], ["n1"])), 2)
            .Apply(new PutObject("b", new ObjectVersion("gone", 0, 1, "e", "t", 0, [], [new BlobRef(2, 1, 0)], ["n1"])), 3)
            .Apply(new CreateSnapshot("s", 0), 4);
        live.At(state);
        state = state
            .Apply(new DeleteObject("b", "gone"), 5)
            .Apply(new PutObject("b", new ObjectVersion("k", 0, 1, "e", "t", 0, [], [new BlobRef(3, 1, 0)], ["n1"])), 6);
        Assert.Equal([s_a, s_b, s_c], Live(live.At(state)));
        Assert.Equal(2, live.FullWalks); // a snapshot shares versions with the namespace: not followed from the changes

        state = state.Apply(new DeleteSnapshot("s"), 7);
        Assert.Equal([s_c], Live(live.At(state)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void FollowedFromTheChanges_IsWhatAWalkOfEveryObjectFinds_WithoutWalking(int seed)
    {
        // Random puts, overwrites, deletes, replica moves and multipart uploads (no blob shared between
        // versions), one state at a time: the followed set must equal the exact one at every step.
        var random = new Random(seed);
        string[] nodes = ["n1", "n2", "n3"];
        MetadataState state = MetadataState.Empty.Apply(new CreateBucket("b", 1), 1).Apply(new CreateBucket("c", 2), 2);
        var live = new LiveBlobs("n1");
        live.At(state);
        ulong nextBlob = 100;
        long index = 2;
        for (int step = 0; step < 400; step++)
        {
            string bucket = random.Next(2) == 0 ? "b" : "c", key = $"k{random.Next(30)}";
            ImmutableArray<string> replicas = [.. nodes.OrderBy(_ => random.Next()).Take(random.Next(1, 3))];
            ObjectVersion? current = state.FindObject(bucket, key);
            MetadataCommand command = random.Next(7) switch
            {
                0 or 1 => new PutObject(bucket, Version(key, replicas, nextBlob++, nextBlob++)),
                2 => new DeleteObject(bucket, key),
                3 when current is not null => new SetReplicas(bucket, key, current.VersionIndex, replicas),
                4 => new CreateMultipartUpload(bucket, new MultipartUpload($"u{step}", key, 0, "t", [], MultipartUpload.NoParts)),
                5 when state.Buckets[bucket].Uploads.Values.FirstOrDefault() is { } upload => upload.Parts.IsEmpty || random.Next(2) == 0
                    ? new PutPart(bucket, upload.UploadId, new UploadedPart(upload.Parts.Count + 1, "e", 1, 0, [new BlobRef(nextBlob++, 1, 0)], replicas))
                    : new CompleteMultipartUpload(bucket, upload.UploadId, new ObjectVersion(upload.Key, 0, upload.Parts.Count, "e", "t", 0, [], [.. upload.Parts.Values.SelectMany(p => p.Blobs)], replicas)),
                6 when state.Buckets[bucket].Uploads.Values.LastOrDefault() is { } upload => new AbortMultipartUpload(bucket, upload.UploadId),
                _ => new PutObject(bucket, Version(key, replicas, nextBlob++)),
            };
            state = state.Apply(command, ++index);

            Assert.Equal(Live(new LiveBlobs("n1").Exact(state)), Live(live.At(state)));
        }

        Assert.Equal(1, live.FullWalks);
    }

    [Fact]
    public void ABlobACopyShares_DropsOutOfTheFollowedSetWhenTheSourceGoes_ButAWalkKeepsIt()
    {
        // What the class says it may miss, and why the collector confirms with Exact before it deletes.
        MetadataState state = MetadataState.Empty.Apply(new CreateBucket("b", 1), 1)
            .Apply(new PutObject("b", Version("source", ["n1"], 1)), 2);
        state = state.Apply(new PutCopy("b", Version("copy", ["n1"], 1), "b", "source", 2), 3);
        var live = new LiveBlobs("n1");
        live.At(state);

        state = state.Apply(new DeleteObject("b", "source"), 4);

        Assert.False(live.At(state).Contains(s_a));
        Assert.True(new LiveBlobs("n1").Exact(state).Contains(s_a));
    }

    [Fact]
    public void VersionsWrittenAndGoneBetweenTwoLooks_AreTakenAsReleased_OnTheirReplicasOnly()
    {
        MetadataState state = MetadataState.Empty.Apply(new CreateBucket("b", 1), 1)
            .Apply(new PutObject("b", Version("kept", ["n1"], 1)), 2);
        var live = new LiveBlobs("n1");
        live.At(state);
        state = state
            .Apply(new PutObject("b", Version("tmp", ["n1", "n2"], 2)), 3) // neither look sees this version
            .Apply(new PutObject("b", Version("tmp", ["n2"], 3)), 4) // its overwrite is on n2 only
            .Apply(new DeleteObject("b", "tmp"), 5)
            .Apply(new PutObject("b", Version("kept", ["n1"], 4)), 6); // an overwrite releases the old version
        Assert.Equal([s_a, s_b], live.At(state).TakeReleased().Order());
        Assert.Empty(live.TakeReleased()); // taken once
        Assert.Equal([new BlobId(4)], Live(live));
        Assert.Equal(1, live.FullWalks);
    }

    private static ObjectVersion Version(string key, ImmutableArray<string> replicas, params ulong[] blobs) =>
        new(key, 0, blobs.Length, "e", "t", 0, [], [.. blobs.Select(b => new BlobRef(b, 1, 0))], replicas);

    /// <summary>The blob ids among 1..5000 the set holds, in order.</summary>
    private static List<BlobId> Live(LiveBlobs live) => [.. Enumerable.Range(1, 5000).Select(n => new BlobId((UInt128)n)).Where(live.Contains)];
}
