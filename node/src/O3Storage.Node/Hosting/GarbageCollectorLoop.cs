// Owns: running the BlobCollector on this node: every interval it lists the store, asks the collector
// which blobs are garbage against the current metadata (LiveBlobs, followed from what changed since the
// last round), confirms that metadata with the leader (a read barrier: every commit made before it is
// applied here), checks each blob once more against that confirmed state, walked whole, and deletes it
// through the StoreWriter. A node cut off from its cluster (no leader
// answers the barrier) deletes nothing: its local copy of the metadata may miss commits that name the
// very blobs it would take. Bounded and self-stopping with its token; a failed round is logged and the
// next one tries again.
using Microsoft.Extensions.Logging;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Data;
using O3Storage.Node.Diagnostics;
using O3Storage.Storage;

namespace O3Storage.Node.Hosting;

/// <param name="metadata">This node's applied metadata, as it is now.</param>
/// <param name="confirm">A read barrier: completes once the metadata holds every commit made before the call; throws when no leader answers.</param>
internal sealed class GarbageCollectorLoop(string nodeId, Func<MetadataState> metadata, Func<CancellationToken, Task> confirm, StoreWriter writer, TimeSpan orphanGrace, TimeProvider time, ILogger logger)
{
    /// <summary>Released blobs wait this long (or the grace, if shorter): reads of the old version finish first.</summary>
    public static readonly TimeSpan ReleaseDelayMax = TimeSpan.FromSeconds(30);

    private readonly BlobCollector _collector = new(orphanGrace, orphanGrace < ReleaseDelayMax ? orphanGrace : ReleaseDelayMax);
    private readonly LiveBlobs _live = new(nodeId);

    /// <summary>Walks of every object so far (the first round, a confirmation before deleting, and what the change chain cannot follow).</summary>
    internal int FullWalks => _live.FullWalks;

    public async Task RunAsync(Func<bool> isMember, CancellationToken token)
    {
        Start();
        TimeSpan interval = TimeSpan.FromTicks(Math.Min(ReleaseDelayMax.Ticks, Math.Max(TimeSpan.FromMilliseconds(250).Ticks, orphanGrace.Ticks / 4)));
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
        {
            try
            {
                if (isMember())
                {
                    await RoundAsync(token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                NodeLog.GarbageCollectionFailed(logger, e);
            }
        }
    }

    /// <summary>
    /// Takes the metadata as it is now as the first look, so the first round already follows the changes
    /// from it: blobs of versions written and replaced before that round are known as released (30 s),
    /// not taken for orphans (the grace, an hour). A store filled by overwrites in the half minute before
    /// the first round stayed full for the hour (found by a churn probe on a 1 GiB device).
    /// </summary>
    internal void Start() => _live.At(metadata());

    /// <summary>One round; how many blobs it deleted (0 as well when the metadata could not be confirmed).</summary>
    internal async Task<int> RoundAsync(CancellationToken token)
    {
        BlobStore store = writer.Store;
        LiveBlobs live = _live.At(metadata());
        List<BlobId> garbage = _collector.Scan(store.List().Select(b => (b.Id, b.Sequence)), live.Contains, time.GetUtcNow(), live.TakeReleased());
        if (garbage.Count == 0)
        {
            return 0;
        }

        try
        {
            await confirm(token).ConfigureAwait(false);
        }
        catch (Exception e) when (!token.IsCancellationRequested)
        {
            // Cut off (no leader, no quorum): the blobs wait for a round that can confirm what is live.
            NodeLog.GarbageCollectionDeferred(logger, garbage.Count, e.Message);
            return 0;
        }

        // Exactly, not followed from the changes: a blob an overwrite released may still be another version's (a copy's).
        LiveBlobs liveNow = _live.Exact(metadata());
        long bytes = 0;
        int deleted = 0;
        foreach (BlobId id in garbage.Where(id => !liveNow.Contains(id)))
        {
            token.ThrowIfCancellationRequested();
            bytes += store.TryStat(id, out BlobInfo? info) ? info!.LengthBytes : 0;
            deleted += await writer.DeleteAsync(id).ConfigureAwait(false) ? 1 : 0;
        }

        NodeLog.GarbageCollected(logger, deleted, bytes);
        return deleted;
    }
}
