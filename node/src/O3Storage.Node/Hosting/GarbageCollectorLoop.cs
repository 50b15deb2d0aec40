// Owns: running the BlobCollector on this node: every interval it lists the store, asks the collector
// which blobs are garbage against the current metadata, checks each once more against the newest state
// and deletes it through the StoreWriter. Bounded and self-stopping with its token; a failed round is
// logged and the next one tries again.
using Microsoft.Extensions.Logging;
using O3Storage.Node.Data;
using O3Storage.Node.Diagnostics;
using O3Storage.Storage;

namespace O3Storage.Node.Hosting;

internal sealed class GarbageCollectorLoop(NodeContext node, TimeSpan orphanGrace, TimeProvider time, ILogger logger)
{
    /// <summary>Released blobs wait this long (or the grace, if shorter): reads of the old version finish first.</summary>
    public static readonly TimeSpan ReleaseDelayMax = TimeSpan.FromSeconds(30);

    public async Task RunAsync(CancellationToken token)
    {
        TimeSpan releaseDelay = orphanGrace < ReleaseDelayMax ? orphanGrace : ReleaseDelayMax;
        TimeSpan interval = TimeSpan.FromTicks(Math.Min(ReleaseDelayMax.Ticks, Math.Max(TimeSpan.FromMilliseconds(250).Ticks, orphanGrace.Ticks / 4)));
        var collector = new BlobCollector(orphanGrace, releaseDelay);
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
        {
            try
            {
                if (!node.Raft.IsMember)
                {
                    continue;
                }

                BlobStore store = node.Storage.Store;
                List<BlobId> garbage = collector.Scan(store.List().Select(b => (b.Id, b.Sequence)), BlobCollector.LiveOn(node.Raft.Metadata, node.NodeId), time.GetUtcNow());
                if (garbage.Count == 0)
                {
                    continue;
                }

                HashSet<BlobId> liveNow = BlobCollector.LiveOn(node.Raft.Metadata, node.NodeId);
                long bytes = 0;
                int deleted = 0;
                foreach (BlobId id in garbage.Where(id => !liveNow.Contains(id)))
                {
                    token.ThrowIfCancellationRequested();
                    bytes += store.TryStat(id, out BlobInfo? info) ? info!.LengthBytes : 0;
                    deleted += await node.Storage.Writer.DeleteAsync(id).ConfigureAwait(false) ? 1 : 0;
                }

                NodeLog.GarbageCollected(logger, deleted, bytes);
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                NodeLog.GarbageCollectionFailed(logger, e);
            }
        }
    }
}
