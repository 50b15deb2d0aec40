// Owns: nothing; the contract between the apply loop and a node's blob store for small objects carried in
// the Raft entry (PutInline): the state machine hands each applied one over in log order, and before a
// snapshot lets the log drop entries it waits until everything handed over is durable, so an entry's
// bytes are always in the log, in the store, or both.
using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Raft;

public interface IInlineBlobSink
{
    /// <summary>
    /// <paramref name="put"/> was applied and its version is now current: store its content if this node is
    /// one of its replicas. Called in log order from the apply loop; may wait (to bound what is in flight),
    /// never throws: a content it could not store is missing from this replica, which the scrub finds and
    /// repair rewrites.
    /// </summary>
    ValueTask AppliedAsync(PutInline put, CancellationToken token);

    /// <summary>Completes once every content handed over before the call is durable in the store (or failed and was reported).</summary>
    Task DurableAsync(CancellationToken token);
}
