using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;

namespace O3Storage.Cluster.Tests.Raft;

public sealed class MetadataStateMachineTests : IDisposable
{
    private readonly DirectoryInfo _snapshots = Directory.CreateTempSubdirectory("o3-sm-");

    [Fact]
    public void ARecord_IsDecodedAndApplied()
    {
        var machine = new MetadataStateMachine(_snapshots);
        machine.ApplyRecord(MetadataCodec.Encode(new CreateBucket("b", 1)), 1);
        Assert.True(machine.State.Buckets.ContainsKey("b"));
        Assert.False(machine.Faulted.IsCompleted);
    }

    [Fact]
    public void AnApplyThatThrowsAnything_FaultsTheMachine_NeverSkipsTheRecord()
    {
        // A bug of any kind in an apply case (here a KeyNotFoundException), not only a record it cannot decode.
        var machine = new MetadataStateMachine(_snapshots, (_, _, _) => throw new KeyNotFoundException("a bug in an apply case"));
        Assert.Throws<KeyNotFoundException>(() => machine.ApplyRecord(MetadataCodec.Encode(new CreateBucket("b", 1)), 1));
        Assert.True(machine.Faulted.IsFaulted);
        Assert.IsType<KeyNotFoundException>(machine.Faulted.Exception!.InnerException);
        Assert.Equal(0, machine.State.LastAppliedIndex);
    }

    [Fact]
    public void ARecordItCannotDecode_FaultsTheMachine()
    {
        var machine = new MetadataStateMachine(_snapshots);
        Assert.Throws<MetadataFormatException>(() => machine.ApplyRecord([MetadataCodec.RecordFormatVersion, 250], 1));
        Assert.IsType<MetadataFormatException>(machine.Faulted.Exception!.InnerException);
    }

    public void Dispose() => _snapshots.Delete(recursive: true);
}
