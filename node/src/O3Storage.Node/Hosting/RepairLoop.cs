// Owns: healing on this node: every round it rewrites the blobs reads reported bad, from a verified copy
// on another holder (same blob id, no metadata change). Objects on too few nodes are PlacementLoop's.
// Bounded: a limited number of heals per round; stops with its token.
using Microsoft.Extensions.Logging;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Api;
using O3Storage.Node.Consensus;
using O3Storage.Node.Data;
using O3Storage.Node.Diagnostics;
using O3Storage.Node.Transport;

namespace O3Storage.Node.Hosting;

internal sealed class RepairLoop(NodeContext node, DataPath data, TimeSpan interval, ILogger logger)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);
    private const int HealsPerRound = 64;
    private static readonly TimeSpan s_breather = TimeSpan.FromMilliseconds(100);

    /// <summary>The share of the normal pace to run at now: 1.0, less on a hot board (rounds are spaced out by its inverse).</summary>
    public Func<double> WorkFactor { get; init; } = static () => 1.0;

    public async Task RunAsync(CancellationToken token)
    {
        bool moreWork = false;
        using var timer = new PeriodicTimer(interval);
        while (moreWork || await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
        {
            double factor = Math.Clamp(WorkFactor(), 0.01, 1.0);
            if (moreWork)
            {
                // Back-to-back rounds leave the node a breath between them: repair must not starve Raft or clients.
                await Task.Delay(s_breather / factor, token).ConfigureAwait(false);
            }
            else if (factor < 1.0)
            {
                // Hot: a round every interval / factor instead of every interval.
                await Task.Delay(interval * ((1.0 / factor) - 1.0), token).ConfigureAwait(false);
            }

            try
            {
                // A full round means more is waiting: the next one starts at once.
                moreWork = await HealReportedAsync(token).ConfigureAwait(false) >= HealsPerRound;
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                moreWork = false;
                NodeLog.RepairFailed(logger, "-", "-", e.Message);
            }
        }
    }

    /// <summary>Heals up to a round's worth of reported replicas; how many reports it took.</summary>
    private async Task<int> HealReportedAsync(CancellationToken token)
    {
        int taken = 0;
        for (; taken < HealsPerRound && data.TryTakeReport(out var report); taken++)
        {
            ObjectVersion? version = node.Raft.Metadata.FindObject(report.Bucket, report.Key);
            if (version is null || !version.Replicas.Contains(report.Bad.NodeId) || !version.Blobs.Contains(report.Bad.Blob))
            {
                continue; // deleted or rewritten since: nothing to heal
            }

            try
            {
                await data.Repairer.HealAsync(report.Bad, data.ReadOrder(node.Raft.Metadata, version), token).ConfigureAwait(false);
                NodeLog.ReplicaHealed(logger, new Storage.BlobId(report.Bad.Blob.BlobId).ToString(), report.Bucket, report.Key, report.Bad.NodeId);
            }
            catch (Exception e) when (e is ReplicaException or ObjectUnreadableException)
            {
                NodeLog.RepairFailed(logger, report.Bucket, report.Key, e.Message);
            }
        }

        return taken;
    }
}
