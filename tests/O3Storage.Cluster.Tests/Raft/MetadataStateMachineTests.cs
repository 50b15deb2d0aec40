using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
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

    [Fact]
    public async Task AppliedSmallObjects_GoToTheSink_InLogOrder_OnlyThoseTheApplyMadeCurrent()
    {
        var sink = new RecordingSink();
        var machine = new MetadataStateMachine(_snapshots.CreateSubdirectory("snapshots"), inline: sink);
        await using var log = new DurableWriteAheadLog(new WriteAheadLog.Options { Location = Path.Combine(_snapshots.FullName, "wal"), ChunkSize = 1024 * 1024 }, machine);
        await log.InitializeAsync();
        MetadataCommand[] commands =
        [
            new CreateBucket("b", 1),
            Inline("b", "one", 1),
            new Batch([Inline("b", "two", 2), Inline("b", "three", 3), Inline("b", "two", 4)]), // "two" again in the same entry: only its last content is current
            Inline("gone", "four", 5), // no such bucket: the apply does nothing, nothing to store
            new PutObject("b", Version("five", 6)),
        ];
        await AppendAndApplyAsync(log, commands);
        Assert.Equal([1UL, 3, 4], sink.Applied.Select(p => (ulong)p.Version.Blobs[0].BlobId));
        Assert.Equal(3, machine.State.Buckets["b"].Objects.Find("three")!.SizeBytes);
    }

    [Fact]
    public async Task ASnapshot_WaitsUntilTheSinkHoldsWhatWasHandedOver_BeforeTheLogCanDropIt()
    {
        // Without the wait, DotNext would drop the entries a snapshot covers while the only durable copy of
        // their small objects is still in them: a power cut then loses acknowledged objects.
        var sink = new RecordingSink { Durable = new TaskCompletionSource() };
        var machine = new MetadataStateMachine(_snapshots.CreateSubdirectory("snapshots"), inline: sink);
        await using var log = new DurableWriteAheadLog(new WriteAheadLog.Options { Location = Path.Combine(_snapshots.FullName, "wal"), ChunkSize = 1024 * 1024 }, machine);
        await log.InitializeAsync();
        var commands = new List<MetadataCommand> { new CreateBucket("b", 1) };
        commands.AddRange(Enumerable.Range(1, MetadataStateMachine.SnapshotIntervalEntries - 1).Select(i => (MetadataCommand)Inline("b", $"k{i}", (ulong)i)));
        await AppendAndApplyAsync(log, commands); // the last one starts a snapshot

        // DotNext applies nothing more until the snapshot is written, and the snapshot waits for the sink.
        Task next = AppendAndApplyAsync(log, [new CreateBucket("c", 2)], commands.Count + 1);
        await Task.Delay(300);
        Assert.False(next.IsCompleted);

        sink.Durable.SetResult();
        await next;
        Assert.Single(Directory.GetFiles(Path.Combine(_snapshots.FullName, "snapshots")), f => Path.GetFileName(f) == $"{commands.Count}-1");
        Assert.Equal(MetadataStateMachine.SnapshotIntervalEntries - 1, sink.Applied.Count);
    }

    [Fact]
    public async Task ASnapshotOfSeveralChunks_IsWhatARestartedMachineRestores()
    {
        // PersistAsync writes the state in chunks of one buffer and RestoreAsync reads it back through a window
        // of the file: a state of more than a chunk (about 1.6 MB here) must come back whole.
        var options = new WriteAheadLog.Options { Location = Path.Combine(_snapshots.FullName, "wal"), ChunkSize = 1024 * 1024 };
        var commands = new List<MetadataCommand> { new CreateBucket("b", 1) };
        commands.AddRange(Enumerable.Range(1, MetadataStateMachine.SnapshotIntervalEntries - 1).Select(i => (MetadataCommand)new PutObject("b", Version($"{new string('k', 300)}/{i:D5}", (ulong)i))));
        MetadataState written;
        {
            var machine = new MetadataStateMachine(_snapshots.CreateSubdirectory("snapshots"));
            await using var log = new DurableWriteAheadLog(options, machine);
            await log.InitializeAsync();
            await AppendAndApplyAsync(log, commands); // the last one starts a snapshot
            await AppendAndApplyAsync(log, [new CreateBucket("c", 2)], commands.Count + 1); // applied once the snapshot is written
            written = machine.State;
        }

        Assert.True(MetadataCodec.EncodeSnapshot(written).Length > MetadataCodec.SnapshotChunkBytes, "more than one chunk");
        var restarted = new MetadataStateMachine(new DirectoryInfo(Path.Combine(_snapshots.FullName, "snapshots")));
        await restarted.RestoreAsync(CancellationToken.None); // as RaftNode does before it opens the log
        await using var again = new DurableWriteAheadLog(options, restarted);
        await again.InitializeAsync();
        await again.WaitForApplyAsync(commands.Count + 1, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(MetadataCodec.EncodeSnapshot(written), MetadataCodec.EncodeSnapshot(restarted.State));
        Assert.Equal(MetadataStateMachine.SnapshotIntervalEntries - 1, restarted.State.Buckets["b"].Objects.Count);
    }

    private static ObjectVersion Version(string key, ulong blob) => new(key, 0, (long)blob, "\"e\"", "t", 1, [], [new BlobRef(blob, (long)blob, 0)], ["n1:8080"]);

    private static PutInline Inline(string bucket, string key, ulong blob) => new(bucket, Version(key, blob), new byte[blob]);

    private static async Task AppendAndApplyAsync(DurableWriteAheadLog log, IReadOnlyList<MetadataCommand> commands, long first = 1)
    {
        IAuditTrail<IRaftLogEntry> follower = log;
        await follower.AppendAsync(new LogEntryProducer<BinaryLogEntry>([.. commands.Select(c => new BinaryLogEntry { Term = 1, Content = MetadataCodec.Encode(c) })]), first, skipCommitted: true);
        long last = first + commands.Count - 1;
        await log.CommitAsync(last, CancellationToken.None);
        await log.WaitForApplyAsync(last, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
    }

    private sealed class RecordingSink : IInlineBlobSink
    {
        public List<PutInline> Applied { get; } = [];

        public TaskCompletionSource? Durable { get; init; }

        public ValueTask AppliedAsync(PutInline put, CancellationToken token)
        {
            Applied.Add(put);
            return ValueTask.CompletedTask;
        }

        public Task DurableAsync(CancellationToken token) => Durable?.Task ?? Task.CompletedTask;
    }

    public void Dispose() => _snapshots.Delete(recursive: true);
}
