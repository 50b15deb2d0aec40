// Owns: nothing; the contract between the state machine and the node's transport for a metadata snapshot
// named by a SnapshotReference: the node fetches it from a member's API, outside Raft's request timeout.
namespace O3Storage.Cluster.Raft;

public interface ISnapshotFetcher
{
    /// <summary>
    /// Writes to <paramref name="destination"/> (created or replaced) the bytes of a metadata snapshot file
    /// that one of <paramref name="reference"/>'s sources holds at its index or later, durably. Takes as
    /// long as the transfer takes (it may stall for a while, not forever). Throws when no source could
    /// give one; the caller tries again later.
    /// </summary>
    Task FetchAsync(SnapshotReference reference, string destination, CancellationToken token);

    /// <summary>The fetched snapshot is the state now (as of <paramref name="appliedIndex"/>): read back in <paramref name="decoding"/>, then <paramref name="heldBack"/> entries committed meanwhile applied in <paramref name="applying"/>.</summary>
    void Installed(SnapshotReference reference, long appliedIndex, TimeSpan decoding, long heldBack, TimeSpan applying);
}
