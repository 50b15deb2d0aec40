// Owns: three Raft rules DotNext's WriteAheadLog leaves to us: a member persists what it appends before it
// answers the leader, keeps the entries it already has (only a conflicting entry replaces its tail), and
// does not vote, once its log was found damaged, until it has caught up again.
// Assumes: DotNext 6.12's WriteAheadLog and RaftCluster (read in the decompiled package): a follower
// handles AppendEntries with AuditTrail.AppendAsync(producer, index, skipCommitted: true), which only
// triggers the background flusher, then CommitAsync(leader's commit index), which waits for the flush of
// entries up to that index; the checkpoint records the last flushed entry, and a restart keeps what it
// names; a vote is granted only when AuditTrail.IsVotedFor(candidate) (ARCHITECTURE.md, "Durable commits"
// and "A damaged log is never silent").
// Faults: a failed flush surfaces from AppendAsync, so the follower answers with an error, not a success.
using System.Runtime.CompilerServices;
using DotNext.IO.Log;
using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace O3Storage.Cluster.Raft;

/// <summary>
/// The write-ahead log with three changes. A follower's answer to AppendEntries waits until the entries it
/// appended are on disk (msync'ed pages and a checkpoint that names them). Without it a follower
/// acknowledges entries that exist only in its page cache; the leader counts that acknowledgement toward
/// a majority, so a power cut could leave a committed entry on fewer than a majority of disks, and the
/// members that lost it could elect each other while the old leader keeps it. A follower skips the
/// entries of an AppendEntries it already has, instead of writing over them and ending its log there
/// (see <see cref="SkipWhatThisLogHasAsync"/>). And while
/// <see cref="RefuseVotes"/> is in force the member grants no vote: a member that lost entries it had
/// acknowledged could otherwise help elect a leader that lacks them.
/// </summary>
/// <remarks>
/// Re-implementing <see cref="IAuditTrail{TEntry}"/> maps only the many-entry <c>AppendAsync</c> (the
/// follower's path, <c>RaftCluster.AppendEntriesAsync</c>) to this class, and re-implementing
/// <see cref="IPersistentState"/> only <c>IsVotedFor</c>; every other member stays the base class's. The
/// leader appends one entry at a time through another overload and needs nothing: its <c>CommitAsync</c>
/// already waits for its own flush.
/// </remarks>
/// <param name="syncNewNames">Makes new page files' names durable (<see cref="DirectoryDurability"/>); called before every commit and acknowledgement.</param>
public sealed class DurableWriteAheadLog(WriteAheadLog.Options options, IStateMachine stateMachine, Action? syncNewNames = null, Action<TimeSpan>? flushed = null)
    : WriteAheadLog(options, stateMachine), IAuditTrail<IRaftLogEntry>, IAuditTrail, IPersistentState
{
    private const long VotesRefused = long.MaxValue;

    // Votes are granted only in terms above this one: -1 normally, long.MaxValue while refused.
    private long _votesOnlyAboveTerm = -1;

    /// <summary>True while this member grants no vote (its log was damaged and it has not caught up yet).</summary>
    public bool RefusesVotes => Volatile.Read(ref _votesOnlyAboveTerm) == VotesRefused;

    /// <summary>From now on this member grants no vote, until <see cref="AllowVotesAbove"/>.</summary>
    public void RefuseVotes() => Volatile.Write(ref _votesOnlyAboveTerm, VotesRefused);

    /// <summary>
    /// Votes again, but only in terms above <paramref name="term"/>: the record of whom it voted for in
    /// earlier terms may have been lost with the log, and voting twice in one term could elect two leaders.
    /// </summary>
    public void AllowVotesAbove(long term) => Volatile.Write(ref _votesOnlyAboveTerm, term);

    bool IPersistentState.IsVotedFor(in ClusterMemberId id) =>
        ((IPersistentState)this).Term > Volatile.Read(ref _votesOnlyAboveTerm) && BaseIsVotedFor(this, in id);

    async ValueTask IAuditTrail<IRaftLogEntry>.AppendAsync<TEntryImpl>(ILogEntryProducer<TEntryImpl> entries, long startIndex, bool skipCommitted, CancellationToken token)
    {
        (ILogEntryProducer<TEntryImpl>? rest, long restIndex) = skipCommitted ? await SkipWhatThisLogHasAsync(entries, startIndex, token).ConfigureAwait(false) : (entries, startIndex);
        if (rest is not null)
        {
            await AppendAsync(rest, restIndex, skipCommitted, token).ConfigureAwait(false);
        }

        // Always, not only when something was appended: a flush with nothing new to write returns at once.
        long flushing = System.Diagnostics.Stopwatch.GetTimestamp();
        await FlushAsync(token).ConfigureAwait(false);
        flushed?.Invoke(System.Diagnostics.Stopwatch.GetElapsedTime(flushing));
        syncNewNames?.Invoke();
    }

    /// <summary>
    /// Raft's rule for AppendEntries, which DotNext's log does not keep: an entry the log already has (same
    /// index, same term) is skipped, and only a conflicting one (same index, another term) replaces it and
    /// everything after it. DotNext writes the leader's entries over the log from the first index on and
    /// ends the log at the last of them, so a late copy of an earlier request (the leader timed it out,
    /// dropped the connection and sent the entries again with more of them, and this member handled the
    /// copies out of order) cut off entries this member had already acknowledged, which the leader may have
    /// counted toward a commit: a committed entry on fewer than a majority.
    /// </summary>
    /// <returns>The entries still to append and the index of the first; null when the log has them all.</returns>
    private async ValueTask<(ILogEntryProducer<TEntryImpl>? Remaining, long Index)> SkipWhatThisLogHasAsync<TEntryImpl>(ILogEntryProducer<TEntryImpl> entries, long index, CancellationToken token)
        where TEntryImpl : IRaftLogEntry
    {
        for (; index <= LastEntryIndex; index++)
        {
            if (!await entries.MoveNextAsync().ConfigureAwait(false))
            {
                return (null, index);
            }

            // A committed entry is the same on every member; above the commit index the terms tell.
            if (index > LastCommittedEntryIndex && await TermReader.TermAtAsync(this, index, token).ConfigureAwait(false) != entries.Current.Term)
            {
                return (new ResumedProducer<TEntryImpl>(entries), index);
            }
        }

        return (entries, index);
    }

    // The leader's and the follower's commit both come through IAuditTrail.CommitAsync: the names of the
    // pages holding the entries up to endIndex (created when they were appended) are made durable first.
    ValueTask<long> IAuditTrail.CommitAsync(long endIndex, CancellationToken token)
    {
        syncNewNames?.Invoke();
        return CommitAsync(endIndex, token);
    }

    /// <summary>The rest of a producer whose current entry has been looked at and not consumed: that entry first.</summary>
    private sealed class ResumedProducer<TEntryImpl>(ILogEntryProducer<TEntryImpl> entries) : ILogEntryProducer<TEntryImpl>
        where TEntryImpl : IRaftLogEntry
    {
        private bool _holding = true;

        public TEntryImpl Current => entries.Current;

        public long RemainingCount => entries.RemainingCount + (_holding ? 1 : 0);

        public ValueTask<bool> MoveNextAsync()
        {
            if (_holding)
            {
                _holding = false;
                return ValueTask.FromResult(true);
            }

            return entries.MoveNextAsync();
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask; // the producer is its caller's to dispose
    }

    // WriteAheadLog implements IsVotedFor explicitly (a private method); this calls that implementation itself.
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "DotNext.Net.Cluster.Consensus.Raft.IPersistentState.IsVotedFor")]
    private static extern bool BaseIsVotedFor(WriteAheadLog log, in ClusterMemberId id);
}
