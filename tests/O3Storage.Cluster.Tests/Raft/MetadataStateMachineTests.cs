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

    [Fact]
    public async Task ASnapshotSentByReference_IsFetched_EntriesAfterItWait_ThoseItCoversAreSkipped_AndARestartReadsWhatWasFetched()
    {
        // DotNext sends a snapshot as one request within its 2 s request timeout: a large one never
        // arrives. At level 5 the leader's log offers a reference instead, and the follower fetches the
        // snapshot through the node (here straight from the leader's files) for as long as that takes.
        var leaderOptions = new WriteAheadLog.Options { Location = Path.Combine(_snapshots.FullName, "leader-wal"), ChunkSize = 1024 * 1024 };
        var leader = new MetadataStateMachine(_snapshots.CreateSubdirectory("leader"));
        var sending = new SnapshotsByReference(leader, "leader:1");
        await using var leaderLog = new DurableWriteAheadLog(leaderOptions, sending);
        await leaderLog.InitializeAsync();
        var first = new List<MetadataCommand> { new SetClusterLevel(MetadataCodec.SnapshotReferenceLevel), new CreateBucket("b", 1) };
        first.AddRange(Enumerable.Range(1, MetadataStateMachine.SnapshotIntervalEntries - 2).Select(i => (MetadataCommand)new PutObject("b", Version($"k{i:D5}", (ulong)i))));
        await AppendAndApplyAsync(leaderLog, first); // the last one starts a snapshot at 4096
        var second = new List<MetadataCommand> { new CreateBucket("c", 2) };
        second.AddRange(Enumerable.Range(1, MetadataStateMachine.SnapshotIntervalEntries).Select(i => (MetadataCommand)new PutObject("c", Version($"k{i:D5}", (ulong)i))));
        await AppendAndApplyAsync(leaderLog, second[..1], first.Count + 1); // the snapshot at 4096 is taken

        ISnapshot sent = ((IStateMachine)sending).Snapshot!;
        Assert.Equal(first.Count, sent.Index);
        Assert.True(sent.TryGetMemory(out ReadOnlyMemory<byte> content) && content.Length < 1024, $"a reference, not the state: {sent.Length} bytes");
        SnapshotReference named = SnapshotReference.Decode(content.Span);
        Assert.Equal((first.Count, 1L), (named.Index, named.Term));
        Assert.Equal(["leader:1"], named.Sources.ToArray());

        var fetcher = new FromMachine(leader) { FailFirst = 1 };
        string tracePath = Path.Combine(_snapshots.FullName, "trace");
        var trace = new ApplyTrace(tracePath);
        var followerOptions = new WriteAheadLog.Options { Location = Path.Combine(_snapshots.FullName, "follower-wal"), ChunkSize = 1024 * 1024 };
        var follower = new MetadataStateMachine(_snapshots.CreateSubdirectory("follower"), trace, fetcher: fetcher);
        await using (var followerLog = new DurableWriteAheadLog(followerOptions, follower))
        {
            await followerLog.InitializeAsync();
            // What DotNext's InstallSnapshot does on the follower: it returns at once, the fetch goes on.
            await ((IAuditTrail<IRaftLogEntry>)followerLog).AppendAsync(sent, sent.Index).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            Assert.NotNull(follower.Fetching);
            Assert.False(follower.Ready.IsCompleted);
            Assert.Empty(follower.State.Buckets);

            // Meanwhile the leader goes on and takes its next snapshot (at 8192): what the fetch gets is newer than the reference.
            await AppendAndApplyAsync(leaderLog, second[1..], first.Count + 2);
            await AppendAndApplyAsync(leaderLog, [new CreateBucket("d", 3)], first.Count + second.Count + 1);

            // The entries after the reference are held back, not applied to the older state; the log's apply loop does not wait.
            IAuditTrail<IRaftLogEntry> appender = followerLog;
            List<MetadataCommand> rest = [.. second, new CreateBucket("d", 3)];
            await appender.AppendAsync(new LogEntryProducer<BinaryLogEntry>([.. rest.Select(c => new BinaryLogEntry { Term = 1, Content = MetadataCodec.Encode(c) })]), first.Count + 1, skipCommitted: true);
            long last = first.Count + rest.Count;
            await followerLog.CommitAsync(last, CancellationToken.None);
            await followerLog.WaitForApplyAsync(last, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Empty(follower.State.Buckets);
            Assert.False(follower.Ready.IsCompleted);

            fetcher.Gate.SetResult(); // the first attempt fails; the next, a second later, succeeds
            await follower.Ready.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Null(follower.Fetching);
            Assert.Equal(2, fetcher.Calls);
            Assert.Equal(rest.Count, fetcher.HeldBack);
            Assert.Equal(MetadataCodec.EncodeSnapshot(leader.State), MetadataCodec.EncodeSnapshot(follower.State));
            Assert.False(File.Exists(Path.Combine(_snapshots.FullName, "follower", "held.entries")));
        }

        trace.Dispose();
        string[] lines = File.ReadAllLines(tracePath);
        long fetchedAt = 2L * MetadataStateMachine.SnapshotIntervalEntries;
        Assert.Contains($"snapshot {fetchedAt}", lines);
        // Entries the fetched snapshot holds already are skipped, not applied again; the one after it is applied.
        long[] appliedAfter = [.. lines.Where(l => l.StartsWith("apply ", StringComparison.Ordinal)).Select(l => long.Parse(l.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture))];
        Assert.Equal([fetchedAt + 1, fetchedAt + 2], appliedAfter);

        // A restart restores what was fetched (the reference's file holds it now): no fetcher needed.
        var restarted = new MetadataStateMachine(new DirectoryInfo(Path.Combine(_snapshots.FullName, "follower")));
        await restarted.RestoreAsync(CancellationToken.None);
        Assert.Equal(fetchedAt, restarted.State.LastAppliedIndex);
        Assert.Equal(MetadataStateMachine.SnapshotIntervalEntries - 1, restarted.State.Buckets["c"].Objects.Count); // 4097 made it, 4098-8192 filled it
    }

    [Fact]
    public async Task BelowTheLevel_OrWithoutAnIdToServeFrom_TheSnapshotIsSentWhole()
    {
        // A member of an older build cannot read a reference; a node that does not serve snapshots cannot send one.
        var machine = new MetadataStateMachine(_snapshots.CreateSubdirectory("snapshots"));
        await using var log = new DurableWriteAheadLog(new WriteAheadLog.Options { Location = Path.Combine(_snapshots.FullName, "wal"), ChunkSize = 1024 * 1024 }, machine);
        await log.InitializeAsync();
        await AppendAndApplyAsync(log, [.. Enumerable.Range(0, MetadataStateMachine.SnapshotIntervalEntries + 1).Select(i => (MetadataCommand)new CreateBucket($"b{i}", i))]);
        ISnapshot own = ((ISnapshotManager)machine).Snapshot!;
        Assert.Same(own, ((IStateMachine)new SnapshotsByReference(machine, "n1:1")).Snapshot); // level 1
        Assert.Same(own, ((IStateMachine)new SnapshotsByReference(machine, null)).Snapshot);
    }

    [Fact]
    public void AReference_RoundTrips_AndBytesThatAreNotOne_AreAFormatError()
    {
        var reference = new SnapshotReference(4096, 3, Guid.NewGuid(), ["10.0.0.1:8080", "10.0.0.2:8080", "[fe80::1]:8080"]);
        byte[] bytes = reference.Encode();
        SnapshotReference back = SnapshotReference.Decode(bytes);
        Assert.Equal((reference.Index, reference.Term, reference.Incarnation), (back.Index, back.Term, back.Incarnation));
        Assert.Equal(reference.Sources.ToArray(), back.Sources.ToArray());
        Assert.True(SnapshotReference.StartsReference(bytes));
        Assert.False(SnapshotReference.StartsReference(MetadataCodec.EncodeSnapshot(MetadataState.Empty)));
        Assert.Throws<MetadataFormatException>(() => SnapshotReference.Decode(bytes.AsSpan(0, bytes.Length - 3)));
        Assert.Throws<MetadataFormatException>(() => SnapshotReference.Decode(MetadataCodec.EncodeSnapshot(MetadataState.Empty)));
    }

    /// <summary>Copies the source machine's newest snapshot at the reference's index or later, once <see cref="Gate"/> opens; the first <see cref="FailFirst"/> attempts fail.</summary>
    private sealed class FromMachine(MetadataStateMachine source) : ISnapshotFetcher
    {
        private int _calls;

        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int FailFirst { get; set; }

        public int Calls => _calls;

        public async Task FetchAsync(SnapshotReference reference, Func<Stream, CancellationToken, Task> read, CancellationToken token)
        {
            int call = Interlocked.Increment(ref _calls);
            await Gate.Task.WaitAsync(token);
            if (call <= FailFirst)
            {
                throw new IOException("the first source is unreachable");
            }

            (FileStream stream, _) = source.OpenSnapshot(reference.Index) ?? throw new IOException($"no snapshot at {reference.Index} or later");
            await using (stream)
            {
                await read(stream, token);
            }
        }

        public void Installed(SnapshotReference reference, long appliedIndex, TimeSpan decoding, long heldBack, TimeSpan applying) => HeldBack = heldBack;

        public long HeldBack { get; private set; } = -1;
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
