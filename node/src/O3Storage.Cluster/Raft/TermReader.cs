using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;

namespace O3Storage.Cluster.Raft;

/// <summary>Reads the term of the first log entry it is given and nothing else (metadata only).</summary>
internal sealed class TermReader : ILogEntryConsumer<IRaftLogEntry, long>
{
    public static TermReader Instance { get; } = new();

    /// <summary>The term of the entry at <paramref name="index"/> (1 or more) in <paramref name="log"/>.</summary>
    public static ValueTask<long> TermAtAsync(IAuditTrail<IRaftLogEntry> log, long index, CancellationToken token) =>
        log.ReadAsync(Instance, index, index, token);

    public bool LogEntryMetadataOnly => true;

    public ValueTask<long> ReadAsync<TEntryImpl, TList>(TList entries, long? snapshotIndex, CancellationToken token)
        where TEntryImpl : IRaftLogEntry
        where TList : IReadOnlyList<TEntryImpl> => ValueTask.FromResult(entries[0].Term);
}
