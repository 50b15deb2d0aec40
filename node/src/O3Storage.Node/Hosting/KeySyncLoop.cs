// Owns: sharing this node's api-keys.txt with the cluster. Every two seconds it reads the file again if
// it changed, and when the cluster does not hold exactly the file's keys under this node's id it commits
// them (SetApiKeys): a key added on one node is honoured by every node seconds later, and one taken out
// of the file stops working everywhere (unless another member's file holds it too).
// Assumes: the cluster's metadata level allows SetApiKeys (level 3): until every member runs a build
// that reads it, each node honours its own file alone, as before.
// It also keeps the first admin key (FirstAdminKey): shared by the node that made it, copied to every
// member, its copies deleted once the owner retires it.
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
        bool on = node.Keys is not null; // as the start said
        while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
        {
            if ((node.Keys is not null) != on)
            {
                // The last key left the cluster, or the first came.
                on = !on;
                if (on)
                {
                    NodeLog.AuthenticationOn(logger, node.Keys?.Keys.Count ?? 0, "this node's api-keys.txt and the cluster's");
                }
                else
                {
                    NodeLog.AuthenticationOff(logger, node.Options.ApiKeysPath, node.Options.Api.ToString());
                }
            }

            if (ring.Refresh(out string? error))
            {
                NodeLog.KeysReloaded(logger, ring.Local?.Keys.Count ?? 0, node.Options.ApiKeysPath);
            }

            if (error != refused && error is not null)
            {
                NodeLog.KeysFileRefused(logger, node.Options.ApiKeysPath, error);
            }

            refused = error;
            if (!node.Raft.IsMember)
            {
                continue;
            }

            try
            {
                await FirstAdminKeyAsync(token).ConfigureAwait(false);
                if (Due(node.NodeId, ring.Local, node.Raft.Metadata) is { } command)
                {
                    await propose(command, token).ConfigureAwait(false);
                    NodeLog.KeysShared(logger, command.Keys.Length);
                }

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

    /// <summary>Shares the first admin key this node made, keeps a copy of the cluster's, or deletes the copy of a retired one.</summary>
    private async Task FirstAdminKeyAsync(CancellationToken token)
    {
        string path = FirstAdminKey.PathIn(node.Options.DataDirectory);
        switch (FirstAdminKey.Next(ring.FirstAdmin, File.Exists(path), node.Raft.Metadata))
        {
            case FirstAdminKey.Step.Share share:
                await propose(share.Command, token).ConfigureAwait(false);
                NodeLog.FirstAdminKeyShared(logger, share.Command.Keys[0].AccessKeyId, path);
                break;
            case FirstAdminKey.Step.Copy copy:
                FirstAdminKey.WriteCopy(path, copy.Key);
                ring.RefreshFirstAdmin();
                break;
            case var step when step == FirstAdminKey.Step.DeleteCopy:
                File.Delete(path);
                ring.RefreshFirstAdmin();
                NodeLog.FirstAdminKeyRetired(logger, path);
                break;
        }
    }
}
