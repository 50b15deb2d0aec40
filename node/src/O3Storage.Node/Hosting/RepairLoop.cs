// Owns: running repair on this node. Every round it rewrites the blobs reads reported bad (from a
// verified copy on another holder), and, on the leader only (one node decides, so two never copy the
// same object), copies under-replicated objects to the reachable nodes their placement wants and
// commits the larger replica set. Bounded: a limited number of objects per round; stops with its token.
using Microsoft.Extensions.Logging;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Api;
using O3Storage.Node.Consensus;
using O3Storage.Node.Data;
using O3Storage.Node.Diagnostics;
using O3Storage.Node.Transport;

namespace O3Storage.Node.Hosting;

internal sealed class RepairLoop(NodeContext node, DataPath data, MetadataProposer proposer, TimeSpan interval, ILogger logger)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);
    private const int HealsPerRound = 64;
    private const int ObjectsPerRound = 256;
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
                await HealReportedAsync(token).ConfigureAwait(false);
                // A full round means more is waiting: the next one starts at once.
                moreWork = node.Raft.IsLeader && await ReReplicateAsync(token).ConfigureAwait(false) >= ObjectsPerRound;
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                moreWork = false;
                NodeLog.RepairFailed(logger, "-", "-", e.Message);
            }
        }
    }

    private async Task HealReportedAsync(CancellationToken token)
    {
        for (int i = 0; i < HealsPerRound && data.TryTakeReport(out var report); i++)
        {
            ObjectVersion? version = node.Raft.Metadata.FindObject(report.Bucket, report.Key);
            if (version is null || !version.Replicas.Contains(report.Bad.NodeId) || !version.Blobs.Contains(report.Bad.Blob))
            {
                continue; // deleted or rewritten since: nothing to heal
            }

            try
            {
                await data.Repairer.HealAsync(report.Bad, data.ReadOrder(version), token).ConfigureAwait(false);
                NodeLog.ReplicaHealed(logger, new Storage.BlobId(report.Bad.Blob.BlobId).ToString(), report.Bucket, report.Key, report.Bad.NodeId);
            }
            catch (Exception e) when (e is ReplicaException or ObjectUnreadableException)
            {
                NodeLog.RepairFailed(logger, report.Bucket, report.Key, e.Message);
            }
        }
    }

    /// <summary>One round of re-replication; how many objects it repaired (failures do not count, so a stuck object cannot make rounds spin).</summary>
    private async Task<int> ReReplicateAsync(CancellationToken token)
    {
        MetadataState state = node.Raft.Metadata;
        int repaired = 0;
        foreach (RepairPlan plan in Repairer.FindUnderReplicated(state, n => n == node.NodeId || node.Peers.IsReachable(n), ObjectsPerRound))
        {
            IReadOnlyList<string> sources = [.. data.ReadOrder(plan.Version).Where(state.Members.ContainsKey)];
            try
            {
                long started = System.Diagnostics.Stopwatch.GetTimestamp();
                var added = await data.Repairer.CopyAsync(plan, sources, bad => data.Report(plan.Bucket, plan.Version.Key, bad), token).ConfigureAwait(false);
                if (added.IsEmpty)
                {
                    continue;
                }

                if (System.Diagnostics.Stopwatch.GetElapsedTime(started) > node.Options.OrphanGrace / 2)
                {
                    // The targets' collectors may already count the first copies as orphans: never commit them.
                    NodeLog.RepairFailed(logger, plan.Bucket, plan.Version.Key, "the copy took longer than half of --orphan-grace");
                    continue;
                }

                System.Collections.Immutable.ImmutableArray<string> replicas = [.. plan.Version.Replicas.Where(state.Members.ContainsKey), .. added];
                await proposer.ProposeAsync(new SetReplicas(plan.Bucket, plan.Version.Key, plan.Version.VersionIndex, replicas), token).ConfigureAwait(false);
                NodeLog.ReReplicated(logger, plan.Bucket, plan.Version.Key, string.Join(",", added), string.Join(",", replicas));
                repaired++;
            }
            catch (Exception e) when (e is ReplicaException or ObjectUnreadableException or ProposeException or OperationCanceledException && !token.IsCancellationRequested)
            {
                NodeLog.RepairFailed(logger, plan.Bucket, plan.Version.Key, e.Message);
            }
        }

        if (repaired > 0)
        {
            NodeLog.ReReplicationRound(logger, repaired);
        }

        return repaired;
    }
}
