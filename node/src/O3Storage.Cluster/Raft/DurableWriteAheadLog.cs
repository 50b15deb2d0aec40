// Owns: Raft's rule that a member persists what it appends before it answers the leader.
// Assumes: DotNext 6.12's WriteAheadLog and RaftCluster (read in the decompiled package): a follower
// handles AppendEntries with AuditTrail.AppendAsync(producer, index, skipCommitted: true), which only
// triggers the background flusher, then CommitAsync(leader's commit index), which waits for the flush of
// entries up to that index; the checkpoint records the last flushed entry, and a restart keeps what it
// names (ARCHITECTURE.md, "Durable commits").
// Faults: a failed flush surfaces from AppendAsync, so the follower answers with an error, not a success.
using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace O3Storage.Cluster.Raft;

/// <summary>
/// The write-ahead log with one change: a follower's answer to AppendEntries waits until the entries it
/// appended are on disk (msync'ed pages and a checkpoint that names them). Without it a follower
/// acknowledges entries that exist only in its page cache; the leader counts that acknowledgement toward
/// a majority, so a power cut could leave a committed entry on fewer than a majority of disks, and the
/// members that lost it could elect each other while the old leader keeps it: logs that disagree on a
/// committed index, and state machines that disagree with them.
/// </summary>
/// <remarks>
/// Re-implementing <see cref="IAuditTrail{TEntry}"/> maps only the many-entry <c>AppendAsync</c> (the
/// follower's path, <c>RaftCluster.AppendEntriesAsync</c>) to this class; every other member stays the
/// base class's. The leader appends one entry at a time through another overload and needs nothing:
/// its <c>CommitAsync</c> already waits for its own flush.
/// </remarks>
public sealed class DurableWriteAheadLog(WriteAheadLog.Options options, IStateMachine stateMachine)
    : WriteAheadLog(options, stateMachine), IAuditTrail<IRaftLogEntry>
{
    async ValueTask IAuditTrail<IRaftLogEntry>.AppendAsync<TEntryImpl>(ILogEntryProducer<TEntryImpl> entries, long startIndex, bool skipCommitted, CancellationToken token)
    {
        // Always, not only when the producer says it has entries: RaftCluster wraps the producer, and a flush
        // with nothing new to write returns at once.
        await AppendAsync(entries, startIndex, skipCommitted, token).ConfigureAwait(false);
        await FlushAsync(token).ConfigureAwait(false);
    }
}
