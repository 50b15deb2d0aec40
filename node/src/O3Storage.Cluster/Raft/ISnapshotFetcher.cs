// Owns: nothing; the contract between the state machine and the node's transport for a metadata snapshot
// named by a SnapshotReference: the node fetches it from a member's API, outside Raft's request timeout.
namespace O3Storage.Cluster.Raft;

public interface ISnapshotFetcher
{
    /// <summary>
    /// Calls <paramref name="read"/> with the bytes of a metadata snapshot file that one of
    /// <paramref name="reference"/>'s sources holds at its index or later, as they arrive (synchronous
    /// reads may block until they do). Takes as long as the transfer takes; a transfer that stalls for a
    /// while fails the stream's reads. Throws when no source could give one (or <paramref name="read"/>
    /// threw); the caller tries again later.
    /// </summary>
    Task FetchAsync(SnapshotReference reference, Func<Stream, CancellationToken, Task> read, CancellationToken token);

    /// <summary>The fetched snapshot is the state now (as of <paramref name="appliedIndex"/>), received and read in <paramref name="decoding"/>; then <paramref name="heldBack"/> entries committed meanwhile applied in <paramref name="applying"/>.</summary>
    void Installed(SnapshotReference reference, long appliedIndex, TimeSpan decoding, long heldBack, TimeSpan applying);
}
