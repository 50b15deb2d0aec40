using System.Buffers.Binary;
using System.Net;
using DotNext.IO.Log;
using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;

namespace O3Storage.Cluster.Tests.Raft;

/// <summary>
/// A follower's append (the call RaftCluster makes for AppendEntries) returns only once the entries are on
/// disk: the checkpoint, written with O_DSYNC after the pages are msync'ed, already names them. DotNext's own
/// WriteAheadLog returns first and flushes in the background, so this test fails against it (shown by
/// constructing a plain WriteAheadLog here: most of the 50 appends return before their checkpoint).
/// </summary>
public sealed class DurableWriteAheadLogTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("o3-wal-");

    [Fact]
    public async Task AFollowersAppend_IsNamedByTheOnDiskCheckpointWhenItReturns()
    {
        string wal = Path.Combine(_root.FullName, "wal");
        var machine = new MetadataStateMachine(_root.CreateSubdirectory("snapshots"));
        await using var log = new DurableWriteAheadLog(new WriteAheadLog.Options { Location = wal, ChunkSize = 1024 * 1024 }, machine);
        await log.InitializeAsync();
        IAuditTrail<IRaftLogEntry> follower = log;

        byte[] record = MetadataCodec.Encode(new CreateBucket("b", 1));
        for (long index = 1; index <= 50; index++)
        {
            var entries = new LogEntryProducer<BinaryLogEntry>([new BinaryLogEntry { Term = 1, Content = record }]);
            await follower.AppendAsync(entries, index, skipCommitted: true);
            Assert.Equal(index, LastFlushedIndex(wal));
        }
    }

    [Fact]
    public async Task AFollowersAppend_IsInTheLogAProcessKilledRightAfterwardsComesBackWith()
    {
        string wal = Path.Combine(_root.FullName, "wal");
        byte[] record = MetadataCodec.Encode(new CreateBucket("b", 1));
        await using var log = new DurableWriteAheadLog(new WriteAheadLog.Options { Location = wal, ChunkSize = 1024 * 1024 }, new MetadataStateMachine(_root.CreateSubdirectory("snapshots")));
        await log.InitializeAsync();
        IAuditTrail<IRaftLogEntry> follower = log;
        await follower.AppendAsync(new LogEntryProducer<BinaryLogEntry>([new BinaryLogEntry { Term = 1, Content = record }, new BinaryLogEntry { Term = 1, Content = record }]), 1, skipCommitted: true);

        // What kill -9 leaves: the files as they are now (page cache included), no orderly close.
        string copy = Path.Combine(_root.FullName, "after-kill");
        CopyDirectory(wal, copy);
        await using var restarted = new WriteAheadLog(new WriteAheadLog.Options { Location = copy, ChunkSize = 1024 * 1024 }, new MetadataStateMachine(_root.CreateSubdirectory("snapshots-2")));
        await restarted.InitializeAsync();
        Assert.Equal(2, restarted.LastEntryIndex);
        Assert.Equal(0, restarted.LastCommittedEntryIndex);
    }

    [Fact]
    public async Task ALateCopyOfAnEarlierAppendEntries_TruncatesNothingItMatches_AConflictingOneReplacesTheTail()
    {
        // A leader times out a request (2 s), drops the connection and sends the entries again, now with more
        // of them. If the follower's server then handles the old request after the new one, its entries all
        // match the log, and Raft says keep the log: the follower already acknowledged the longer one, and the
        // leader may count that acknowledgement toward a commit. Truncating to the old request's end would
        // lose entries a majority is thought to hold.
        await using var log = new DurableWriteAheadLog(new WriteAheadLog.Options { Location = Path.Combine(_root.FullName, "wal"), ChunkSize = 1024 * 1024 }, new MetadataStateMachine(_root.CreateSubdirectory("snapshots")));
        await log.InitializeAsync();
        IAuditTrail<IRaftLogEntry> follower = log;
        BinaryLogEntry Entry(long term, string bucket) => new() { Term = term, Content = MetadataCodec.Encode(new CreateBucket(bucket, 1)) };

        await follower.AppendAsync(new LogEntryProducer<BinaryLogEntry>([Entry(1, "a"), Entry(1, "b"), Entry(1, "c"), Entry(1, "d"), Entry(1, "e")]), 1, skipCommitted: true);
        await follower.AppendAsync(new LogEntryProducer<BinaryLogEntry>([Entry(1, "b"), Entry(1, "c")]), 2, skipCommitted: true); // the late copy
        Assert.Equal(5, log.LastEntryIndex);

        // Entries 3 and 4 again, then one the log does not have yet: appended, nothing lost.
        await follower.AppendAsync(new LogEntryProducer<BinaryLogEntry>([Entry(1, "c"), Entry(1, "d"), Entry(1, "e"), Entry(1, "f")]), 3, skipCommitted: true);
        Assert.Equal(6, log.LastEntryIndex);

        // A new leader's entry at 4 (term 2) conflicts: 4 and everything after it go, its entries replace them.
        await follower.AppendAsync(new LogEntryProducer<BinaryLogEntry>([Entry(1, "c"), Entry(2, "x")]), 3, skipCommitted: true);
        Assert.Equal(4, log.LastEntryIndex);
        long[] terms = await TermsAsync(follower, 1, 4);
        Assert.Equal(new long[] { 1, 1, 1, 2 }, terms);
    }

    private static async Task<long[]> TermsAsync(IAuditTrail<IRaftLogEntry> log, long from, long to)
    {
        var terms = new List<long>();
        for (long i = from; i <= to; i++)
        {
            terms.Add(await TermReader.TermAtAsync(log, i, CancellationToken.None));
        }

        return [.. terms];
    }

    [Fact]
    public async Task WhileVotesAreRefused_NoCandidateGetsOne_AfterwardsOnlyInLaterTerms()
    {
        await using var log = new DurableWriteAheadLog(new WriteAheadLog.Options { Location = Path.Combine(_root.FullName, "wal"), ChunkSize = 1024 * 1024 }, new MetadataStateMachine(_root.CreateSubdirectory("snapshots")));
        await log.InitializeAsync();
        IPersistentState state = log;
        var a = ClusterMemberId.FromEndPoint(new IPEndPoint(IPAddress.Loopback, 8090));
        var b = ClusterMemberId.FromEndPoint(new IPEndPoint(IPAddress.Loopback, 8091));
        await state.UpdateTermAsync(5, resetLastVote: true);
        Assert.True(state.IsVotedFor(a)); // no vote cast in term 5 yet: either may get it

        log.RefuseVotes();
        Assert.True(log.RefusesVotes);
        Assert.False(state.IsVotedFor(a));
        await state.UpdateTermAsync(9, resetLastVote: true);
        Assert.False(state.IsVotedFor(a)); // a new term changes nothing while refused

        log.AllowVotesAbove(9);
        Assert.False(log.RefusesVotes);
        Assert.False(state.IsVotedFor(a)); // term 9 itself: its vote may have been cast before the damage
        await state.UpdateTermAsync(10, resetLastVote: true);
        Assert.True(state.IsVotedFor(a));

        // Above the gate the log's own rule holds (called through UnsafeAccessor): one vote per term.
        await state.UpdateVotedForAsync(a);
        Assert.True(state.IsVotedFor(a));
        Assert.False(state.IsVotedFor(b));
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (string directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        }

        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            using var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var target = File.Create(file.Replace(from, to, StringComparison.Ordinal));
            source.CopyTo(target);
        }
    }

    /// <summary>The checkpoint file as a restart reads it: version 1, the commit index, the last flushed index.</summary>
    private static long LastFlushedIndex(string wal)
    {
        using var file = new FileStream(Path.Combine(wal, "checkpoint"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        Span<byte> bytes = stackalloc byte[20];
        file.ReadExactly(bytes);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes));
        return BinaryPrimitives.ReadInt64LittleEndian(bytes[12..]);
    }

    public void Dispose() => _root.Delete(recursive: true);
}
