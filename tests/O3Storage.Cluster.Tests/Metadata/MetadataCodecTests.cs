using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Tests.Metadata;

public sealed class MetadataCodecTests
{
    public static TheoryData<MetadataCommand> Commands => new()
    {
        new InitializeCluster(new ClusterSettings("o3storage-prod", 3, ConsistencyLevel.Strong), Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e")),
        new InitializeCluster(new ClusterSettings("lab", 1, ConsistencyLevel.Eventual), Guid.NewGuid()),
        new AddMember("192.168.1.101:8080", "192.168.1.101:8090", Guid.NewGuid()),
        new AddMember("[::1]:8080", "[::1]:8090", Guid.NewGuid()),
        new RemoveMember("192.168.1.104:8080", 7),
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public void Encode_ThenDecode_ReturnsTheSameCommand(MetadataCommand command)
    {
        byte[] record = MetadataCodec.Encode(command);
        Assert.Equal(MetadataCodec.RecordFormatVersion, record[0]);
        Assert.Equal(command, MetadataCodec.Decode(record));
    }

    [Fact]
    public void Decode_NewerFormatVersion_RefusesLoudlyAndAsksForUpgrade()
    {
        byte[] record = MetadataCodec.Encode(new RemoveMember("a:1", 7));
        record[0] = MetadataCodec.RecordFormatVersion + 1;
        var error = Assert.Throws<MetadataFormatException>(() => MetadataCodec.Decode(record));
        Assert.Contains("upgrade this node", error.Message);
    }

    [Fact]
    public void Decode_UnknownCommandKind_Refuses()
    {
        byte[] record = [MetadataCodec.RecordFormatVersion, 0xFF, 0x7F];
        var error = Assert.Throws<MetadataFormatException>(() => MetadataCodec.Decode(record));
        Assert.Contains("kind 32767", error.Message);
    }

    [Fact]
    public void Decode_EveryTruncation_IsAFormatErrorNeverAnotherException()
    {
        byte[] record = MetadataCodec.Encode(new AddMember("192.168.1.101:8080", "192.168.1.101:8090", Guid.NewGuid()));
        for (int length = 0; length < record.Length; length++)
        {
            Assert.Throws<MetadataFormatException>(() => MetadataCodec.Decode(record.AsSpan(0, length)));
        }
    }

    [Fact]
    public void Decode_TrailingBytes_Refuses()
    {
        byte[] record = [.. MetadataCodec.Encode(new RemoveMember("a:1", 7)), 0];
        Assert.Throws<MetadataFormatException>(() => MetadataCodec.Decode(record));
    }

    [Fact]
    public void Decode_RandomBytes_OnlyEverFailsWithFormatError()
    {
        const int seed = 20261126;
        var random = new Random(seed);
        for (int i = 0; i < 20_000; i++)
        {
            byte[] garbage = new byte[random.Next(0, 64)];
            random.NextBytes(garbage);
            if (garbage.Length > 0 && random.Next(2) == 0)
            {
                garbage[0] = MetadataCodec.RecordFormatVersion;
            }

            try
            {
                MetadataCodec.Decode(garbage);
            }
            catch (MetadataFormatException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"seed {seed}, case {i}: {Convert.ToHexString(garbage)} threw {e.GetType().Name}: {e.Message}");
            }
        }
    }

    [Fact]
    public void Snapshot_RoundTripsSettingsMembersAndIndex()
    {
        MetadataState state = MetadataState.Empty
            .Apply(new InitializeCluster(new ClusterSettings("o3storage-prod", 3, ConsistencyLevel.Strong), Guid.NewGuid()), 1)
            .Apply(new AddMember("192.168.1.101:8080", "192.168.1.101:8090", Guid.NewGuid()), 2)
            .Apply(new AddMember("192.168.1.102:8080", "192.168.1.102:8090", Guid.NewGuid()), 5)
            .Skip(9);

        MetadataState restored = MetadataCodec.DecodeSnapshot(MetadataCodec.EncodeSnapshot(state));

        Assert.Equal(9, restored.LastAppliedIndex);
        Assert.Equal(state.IncarnationId, restored.IncarnationId);
        Assert.Equal(state.Settings, restored.Settings);
        Assert.Equal(state.Members.Values, restored.Members.Values);
    }

    [Fact]
    public void DecodeSnapshot_WrongMagicOrTruncated_IsAFormatError()
    {
        byte[] snapshot = MetadataCodec.EncodeSnapshot(MetadataState.Empty.Apply(new AddMember("a:1", "a:2", Guid.NewGuid()), 1));
        Assert.Throws<MetadataFormatException>(() => MetadataCodec.DecodeSnapshot(snapshot.AsSpan(0, snapshot.Length - 1)));
        snapshot[0] ^= 0xFF;
        Assert.Throws<MetadataFormatException>(() => MetadataCodec.DecodeSnapshot(snapshot));
    }

    [Fact]
    public void DecodeSnapshot_TwoMembersByOneName_IsAFormatError()
    {
        // Found by ParserFuzzTests.MetadataRecordsAndSnapshots: the member map threw ArgumentException.
        byte[] snapshot = Convert.FromBase64String("TzNNUwcAAAAAAAAAAAAAoAAAAAAAAAAAAAA/AAAAAgAAAAAAAAAAAAAAAAAAAAAAAAABAAAAAAAAADNNUwcAAAAAAAAAAAAAoAAAAAAAAAAAAAAAAAACAAAAAAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAA");
        var error = Assert.Throws<MetadataFormatException>(() => MetadataCodec.DecodeSnapshot(snapshot));
        Assert.Contains("two entries by one name", error.Message, StringComparison.Ordinal);
    }
}
