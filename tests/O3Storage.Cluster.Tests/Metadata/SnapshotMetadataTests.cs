using System.Collections.Immutable;
using O3Storage.Cluster.Metadata;
using static O3Storage.Cluster.Tests.Metadata.MetadataSteps;

namespace O3Storage.Cluster.Tests.Metadata;

/// <summary>Named snapshots of the namespace: what creating, restoring, deleting and removals do, their encoding, and the space they pin.</summary>
public sealed class SnapshotMetadataTests
{
    private static readonly string[] s_replicas = ["n1:8080", "n2:8080", "n3:8080"];
    private static ulong s_nextBlob = 1;

    private static ObjectVersion Version(string key, long size = 10) =>
        new(key, 0, size, "\"e\"", "text/plain", 5, [], [new BlobRef(s_nextBlob++, size, 1)], [.. s_replicas]);

    private static MetadataState Seeded() =>
        Apply(MetadataState.Empty, new CreateBucket("b", 1), new PutObject("b", Version("keep")), new PutObject("b", Version("overwritten")), new PutObject("b", Version("deleted")), new CreateBucket("gone-later", 1));

    [Fact]
    public void Create_RecordsTheNamespaceAtItsIndex_LaterWritesLeaveItAlone_SecondCreateOfTheNameIsANoOp()
    {
        MetadataState state = Apply(Seeded(), new CreateSnapshot("s1", 100));
        long index = state.LastAppliedIndex;
        state = Apply(state, new PutObject("b", Version("new")), new DeleteObject("b", "deleted"), new CreateSnapshot("s1", 200));

        NamespaceSnapshot snapshot = state.Snapshots["s1"];
        Assert.Equal((index, 100L), (snapshot.Index, snapshot.CreatedUnixMs));
        Assert.Equal(["deleted", "keep", "overwritten"], snapshot.Buckets["b"].Objects.Keys);
        Assert.Equal((3L, 30L), (snapshot.Objects, snapshot.Bytes));
        Assert.Equal(["keep", "new", "overwritten"], state.Buckets["b"].Objects.Keys);
    }

    [Fact]
    public void Restore_SetsTheNamespaceBack_WrittenSinceGone_DeletedSinceBack_BucketsToo()
    {
        MetadataState before = Apply(Seeded(), new CreateSnapshot("s1", 100));
        ObjectVersion overwritten = before.FindObject("b", "overwritten")!;
        MetadataState state = Apply(
            before,
            new PutObject("b", Version("new")),
            new PutObject("b", Version("overwritten", 99)),
            new DeleteObject("b", "deleted"),
            new DeleteBucket("gone-later"),
            new CreateBucket("made-later", 1),
            new RestoreSnapshot("s1", 300, 0));

        Assert.Equal(["b", "gone-later"], state.Buckets.Keys);
        Assert.Equal(["deleted", "keep", "overwritten"], state.Buckets["b"].Objects.Keys);
        Assert.Equal((overwritten.VersionIndex, 10L), (state.FindObject("b", "overwritten")!.VersionIndex, state.FindObject("b", "overwritten")!.SizeBytes));
        Assert.Equal(new SnapshotRestore("s1", state.LastAppliedIndex, 300), state.LastRestore);
        Assert.All(s_replicas, r => Assert.Equal(3, state.ObjectsByReplica[r])); // counted again from what came back
    }

    [Fact]
    public void Restore_KeepsTheReplicasAStillCurrentVersionHasNow()
    {
        MetadataState state = Apply(Seeded(), new CreateSnapshot("s1", 100));
        ObjectVersion keep = state.FindObject("b", "keep")!;
        state = Apply(state, new SetReplicas("b", "keep", keep.VersionIndex, ["n4:8080", "n2:8080", "n3:8080"]), new RestoreSnapshot("s1", 300, 0));

        Assert.Equal(["n4:8080", "n2:8080", "n3:8080"], state.FindObject("b", "keep")!.Replicas.ToArray());
        Assert.Equal(1, state.ObjectsByReplica["n4:8080"]);
        Assert.Equal(2, state.ObjectsByReplica["n1:8080"]);
    }

    [Fact]
    public void Restore_CommittedTwiceOrAfterAnotherRestore_ChangesNothingTheSecondTime()
    {
        MetadataState restored = Apply(Seeded(), new CreateSnapshot("s1", 100), new DeleteObject("b", "keep"), new RestoreSnapshot("s1", 300, 0));
        long first = restored.LastRestore!.Index;
        MetadataState written = Apply(restored, new PutObject("b", Version("after")));

        // The same proposal committed again (a retry through a new leader): it expected no earlier restore.
        MetadataState again = Apply(written, new RestoreSnapshot("s1", 300, 0));
        Assert.NotNull(again.FindObject("b", "after"));
        Assert.Equal(first, again.LastRestore!.Index);

        // A deliberate second restore names the restore it saw.
        MetadataState forced = Apply(written, new RestoreSnapshot("s1", 400, first));
        Assert.Null(forced.FindObject("b", "after"));
        Assert.Equal(forced.LastAppliedIndex, forced.LastRestore!.Index);
    }

    [Fact]
    public void RestoreOrDeleteOfAnUnknownSnapshot_IsANoOp()
    {
        MetadataState state = Seeded();
        MetadataState after = Apply(state, new RestoreSnapshot("nope", 1, 0), new DeleteSnapshot("nope"));
        Assert.Same(state.Buckets, after.Buckets);
        Assert.Null(after.LastRestore);
    }

    [Fact]
    public void RemoveMember_TakesTheNodeOutOfEverySnapshotsReplicaLists()
    {
        MetadataState state = Apply(Seeded(), new AddMember("n1:8080", "n1:8090", Guid.NewGuid()), new CreateSnapshot("s1", 100), new DeleteObject("b", "deleted"), new RemoveMember("n1:8080", 7));
        Assert.All(state.Snapshots["s1"].Buckets["b"].Objects, v => Assert.DoesNotContain("n1:8080", v.Replicas));

        state = Apply(state, new RestoreSnapshot("s1", 300, 0));
        Assert.Equal(["n2:8080", "n3:8080"], state.FindObject("b", "deleted")!.Replicas.ToArray());
        Assert.False(state.ObjectsByReplica.ContainsKey("n1:8080"));
    }

    [Fact]
    public void RaftSnapshot_KeepsSnapshotsAndTheLastRestore_AndSharesUnchangedVersionsInMemory()
    {
        MetadataState state = Apply(Seeded(), new CreateSnapshot("s1", 100), new DeleteObject("b", "deleted"), new CreateSnapshot("s2", 200), new RestoreSnapshot("s1", 300, 0), new PutObject("b", Version("after")));
        MetadataState decoded = MetadataCodec.DecodeSnapshot(MetadataCodec.EncodeSnapshot(state));

        Assert.Equal(MetadataCodec.EncodeSnapshot(state), MetadataCodec.EncodeSnapshot(decoded));
        Assert.Equal(["s1", "s2"], decoded.Snapshots.Keys);
        Assert.Equal((state.Snapshots["s2"].Index, 2L), (decoded.Snapshots["s2"].Index, decoded.Snapshots["s2"].Objects));
        Assert.Equal(state.LastRestore, decoded.LastRestore);
        Assert.Same(decoded.FindObject("b", "keep"), decoded.Snapshots["s1"].Buckets["b"].Objects.Find("keep"));
    }

    [Fact]
    public void Pinned_CountsBlobsOnlySnapshotsReferTo_EachOnce()
    {
        MetadataState state = Apply(Seeded(), new CreateSnapshot("s1", 100), new CreateSnapshot("s2", 100));
        Assert.Equal((0L, 0L), NamespaceSnapshot.Pinned(state, state.Snapshots.Values));

        state = Apply(state, new DeleteObject("b", "deleted"), new PutObject("b", Version("overwritten", 40)), new PutObject("b", Version("new", 7)));
        Assert.Equal((20L, 2L), NamespaceSnapshot.Pinned(state, state.Snapshots.Values));
        Assert.Equal((20L, 2L), NamespaceSnapshot.Pinned(state, [state.Snapshots["s1"]]));

        state = Apply(state, new DeleteSnapshot("s1"), new DeleteSnapshot("s2"));
        Assert.Equal((0L, 0L), NamespaceSnapshot.Pinned(state, state.Snapshots.Values));
    }

    [Theory]
    [InlineData("snapshot-20241201_143000", true)]
    [InlineData("a", true)]
    [InlineData("v1.2", true)]
    [InlineData("", false)]
    [InlineData("-leading-dash", false)]
    [InlineData(".hidden", false)]
    [InlineData("has space", false)]
    [InlineData("slash/inside", false)]
    [InlineData("quote\"", false)]
    [InlineData("ünicode", false)]
    public void Names_AreLettersDigitsDotsUnderscoresAndDashes(string name, bool valid)
    {
        Assert.Equal(valid, NamespaceSnapshot.Invalid(name) is null);
        Assert.Null(NamespaceSnapshot.Invalid(new string('x', NamespaceSnapshot.NameLengthMax)));
        Assert.NotNull(NamespaceSnapshot.Invalid(new string('x', NamespaceSnapshot.NameLengthMax + 1)));
    }

    [Fact]
    public void Snapshot_SharesTheBucketMap_NothingIsCopied()
    {
        MetadataState state = Apply(Seeded(), new CreateSnapshot("s1", 100));
        Assert.Same(state.Buckets, state.Snapshots["s1"].Buckets);
        Assert.IsType<ImmutableSortedDictionary<string, BucketState>>(state.Snapshots["s1"].Buckets);
    }
}
