using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Tests.Metadata;

/// <summary>
/// Every metadata command kind, each in one row: encoded, decoded and applied, the decoded command
/// changing the state exactly as the original does. A command kind added without its row (or with an
/// encoding, a decoding or an apply case missing) fails here, not on a running cluster.
/// </summary>
public sealed class MetadataCommandTableTests
{
    private static readonly ObjectVersion s_version = new(
        "k", 0, 20, "\"e\"", "text/plain", 5, [KeyValuePair.Create("x-amz-meta-a", "b")], [new BlobRef(1001, 10, 1), new BlobRef(1002, 10, 2)], ["n1:8080", "n2:8080"]);

    private static readonly UploadedPart s_part = new(1, "\"p1\"", 10, 6, [new BlobRef(1001, 10, 1)], ["n1:8080"]);
    private static readonly UploadedPart s_partTwo = new(2, "\"p2\"", 10, 7, [new BlobRef(1002, 10, 2)], ["n1:8080"]);
    private static readonly MultipartUpload s_upload = new("u1", "k", 4, "text/plain", [], MultipartUpload.NoParts);

    private static MetadataState Given(params MetadataCommand[] commands)
    {
        MetadataState state = MetadataState.Empty;
        foreach (MetadataCommand command in commands)
        {
            state = state.Apply(command, state.LastAppliedIndex + 1);
        }

        return state;
    }

    /// <summary>Each kind, with a state in which it takes effect (so an apply case that does nothing is caught too).</summary>
    public static TheoryData<string, MetadataState, MetadataCommand> Rows()
    {
        MetadataState bucket = Given(new CreateBucket("b", 1));
        MetadataState withObject = Given(new CreateBucket("b", 1), new PutObject("b", s_version));
        MetadataState withUpload = Given(new CreateBucket("b", 1), new CreateMultipartUpload("b", s_upload));
        MetadataState withParts = Given(new CreateBucket("b", 1), new CreateMultipartUpload("b", s_upload), new PutPart("b", "u1", s_part), new PutPart("b", "u1", s_partTwo));
        long objectVersion = withObject.FindObject("b", "k")!.VersionIndex;
        var settings = new ClusterSettings("lab", 3, ConsistencyLevel.Strong);
        return new TheoryData<string, MetadataState, MetadataCommand>
        {
            { "InitializeCluster", MetadataState.Empty, new InitializeCluster(settings, Guid.NewGuid()) },
            { "AddMember", Given(new InitializeCluster(settings, Guid.NewGuid())), new AddMember("n1:8080", "n1:8090", Guid.NewGuid()) },
            { "RemoveMember", Given(new AddMember("n9:8080", "n9:8090", Guid.NewGuid())), new RemoveMember("n9:8080", 7) },
            { "SetMemberState", Given(new AddMember("n9:8080", "n9:8090", Guid.NewGuid())), new SetMemberState("n9:8080", MemberState.Draining) },
            { "SetMaintenance", MetadataState.Empty, new SetMaintenance(new MaintenanceMode("scheduled maintenance", 1_700_000_000_000)) },
            { "CreateBucket", MetadataState.Empty, new CreateBucket("b", 1) },
            { "DeleteBucket", bucket, new DeleteBucket("b") },
            { "PutObject", bucket, new PutObject("b", s_version) },
            { "PutInline", bucket, new PutInline("b", s_version with { SizeBytes = 3, Blobs = [new BlobRef(1003, 3, 7)] }, new byte[] { 1, 2, 3 }) },
            { "PutCopy", withObject, new PutCopy("b", s_version with { Key = "copy" }, "b", "k", objectVersion) },
            { "DeleteObject", withObject, new DeleteObject("b", "k") },
            { "CreateMultipartUpload", bucket, new CreateMultipartUpload("b", s_upload) },
            { "PutPart", withUpload, new PutPart("b", "u1", s_part) },
            { "CompleteMultipartUpload", withParts, new CompleteMultipartUpload("b", "u1", s_version) },
            { "AbortMultipartUpload", withUpload, new AbortMultipartUpload("b", "u1") },
            { "SetReplicas", withObject, new SetReplicas("b", "k", objectVersion, ["n3:8080"]) },
            { "RefoundCluster", Given(new AddMember("n1:8080", "n1:8090", Guid.NewGuid()), new AddMember("n2:8080", "n2:8090", Guid.NewGuid())), new RefoundCluster(Guid.NewGuid(), "n1:8080", 9) },
            { "SetClusterLevel", MetadataState.Empty, new SetClusterLevel(2) },
            { "SetApiKeys", MetadataState.Empty, new SetApiKeys("n1:8080", [new ClusterKey(2, "0123456789abcdef0123", "O3AAAA"), new ClusterKey(0, "fedcba9876543210fedc", "READER")]) },
            { "CreateSnapshot", withObject, new CreateSnapshot("nightly", 9) },
            { "DeleteSnapshot", Given(new CreateSnapshot("nightly", 9)), new DeleteSnapshot("nightly") },
            { "RestoreSnapshot", Given(new CreateBucket("b", 1), new CreateSnapshot("empty", 2), new PutObject("b", s_version)), new RestoreSnapshot("empty", 9, 0) },
            { "Batch", bucket, new Batch([new PutObject("b", s_version), new DeleteObject("b", "missing"), new CreateBucket("c", 2)]) },
        };
    }

    [Fact]
    public void EveryCommandKind_HasARow()
    {
        string[] kinds = [.. typeof(MetadataCommand).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(MetadataCommand)) && !t.IsAbstract)
            .Select(t => t.Name)
            .Order(StringComparer.Ordinal)];
        string[] rows = [.. Rows().Select(row => (string)row[0]).Order(StringComparer.Ordinal)];
        Assert.Equal(kinds, rows);
        Assert.All(Rows(), row => Assert.Equal((string)row[0], row[2].GetType().Name));
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void EveryCommandKind_EncodesDecodesAndApplies_AsTheOriginal(string kind, MetadataState given, MetadataCommand command)
    {
        Assert.Equal(kind, command.GetType().Name);
        long index = given.LastAppliedIndex + 1;

        byte[] record = MetadataCodec.Encode(command);
        MetadataCommand decoded = MetadataCodec.Decode(record);
        Assert.Equal(record, MetadataCodec.Encode(decoded));

        byte[] applied = MetadataCodec.EncodeSnapshot(given.Apply(command, index));
        Assert.Equal(applied, MetadataCodec.EncodeSnapshot(given.Apply(decoded, index)));
        Assert.NotEqual(MetadataCodec.EncodeSnapshot(given.Skip(index)), applied); // it took effect
    }

    [Fact]
    public void EveryCommandKind_IsOfALevelThisBuildReads_AndTheGateHoldsBackWhatTheClusterHasNotReached()
    {
        Assert.All(Rows(), row => Assert.InRange(MetadataCodec.LevelOf((MetadataCommand)row[2]), 1, MetadataCodec.Level));
        Assert.Equal(1, MetadataCodec.LevelOf(new PutObject("b", s_version)));
        Assert.Equal(2, MetadataCodec.LevelOf(new CreateSnapshot("s", 1)));
        Assert.Equal(3, MetadataCodec.LevelOf(new SetApiKeys("n1:8080", [])));
        Assert.Equal(4, MetadataCodec.LevelOf(new PutInline("b", s_version, new byte[] { 1 })));
        Assert.Equal(4, MetadataCodec.LevelOf(new Batch([new PutObject("b", s_version), new PutInline("b", s_version, new byte[] { 1 })])));

        MetadataState older = MetadataState.Empty; // a cluster whose members have not all said they read level 2
        Assert.True(MetadataLevelException.Allows(older, new PutObject("b", s_version)));
        Assert.False(MetadataLevelException.Allows(older, new CreateSnapshot("s", 1)));
        Assert.True(MetadataLevelException.Allows(older, new SetClusterLevel(2))); // the raise itself
        Assert.True(MetadataLevelException.Allows(Given(new SetClusterLevel(2)), new CreateSnapshot("s", 1)));
        Assert.Equal(2, MetadataCodec.DecodeSnapshot(MetadataCodec.EncodeSnapshot(Given(new SetClusterLevel(2)))).ClusterLevel);
    }
}
