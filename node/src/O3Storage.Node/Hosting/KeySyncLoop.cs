// Owns: sharing this node's api-keys.txt with the cluster. Every two seconds it reads the file again if
// it changed, and when the cluster does not hold exactly the file's keys under this node's id it commits
// them (SetApiKeys): a key added on one node is honoured by every node seconds later, and one taken out
// of the file stops working everywhere (unless another member's file holds it too).
// Assumes: the cluster's metadata level allows SetApiKeys (level 3): until every member runs a build
// that reads it, each node honours its own file alone, as before.
// Faults: a failed commit (no leader, a leader change) is tried again on the next tick.
using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Auth;
using O3Storage.Node.Diagnostics;

namespace O3Storage.Node.Hosting;

internal sealed class KeySyncLoop(NodeContext node, KeyRing ring, Func<MetadataCommand, CancellationToken, Task> propose, TimeProvider time, ILogger logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    /// <summary>What to commit so the cluster holds this node's keys as its file has them; null when it does, or cannot take them yet.</summary>
    public static SetApiKeys? Due(string nodeId, ApiKeys? local, MetadataState state)
    {
        ImmutableArray<ClusterKey> keys = KeyRing.ToCluster(local);
        if (KeyRing.Same(keys, state.ApiKeys.GetValueOrDefault(nodeId)))
        {
            return null;
        }

        var command = new SetApiKeys(nodeId, keys);
        return MetadataLevelException.Allows(state, command) ? command : null;
    }

    public async Task RunAsync(CancellationToken token)
    {
        using var timer = new PeriodicTimer(Interval, time);
        string? refused = null;
        bool failing = false;
        while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
        {
            if (ring.Refresh(out string? error))
            {
                NodeLog.KeysReloaded(logger, ring.Local?.Keys.Count ?? 0, node.Options.ApiKeysPath);
            }

            if (error != refused && error is not null)
            {
                NodeLog.KeysFileRefused(logger, node.Options.ApiKeysPath, error);
            }

            refused = error;
            if (!node.Raft.IsMember || Due(node.NodeId, ring.Local, node.Raft.Metadata) is not { } command)
            {
                continue;
            }

            try
            {
                await propose(command, token).ConfigureAwait(false);
                NodeLog.KeysShared(logger, command.Keys.Length);
                failing = false;
            }
            catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
            {
                if (!failing)
                {
                    NodeLog.KeysNotShared(logger, e.Message);
                }

                failing = true;
            }
        }
    }
}
