// Owns: the test-only record of the "N+1" build (O3STORAGE_NEXT_LEVEL_TEST, make publish-next-level-test):
// the node tries to commit a record of metadata level 6 from the start, so the rolling-update test sees
// the gate hold it back while any member runs the level-5 build, and sees it committed once none does.
// Compiled only into that build.
#if O3STORAGE_NEXT_LEVEL_TEST
using Microsoft.Extensions.Logging;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Diagnostics;

namespace O3Storage.Node.Hosting;

internal static class NextLevelTestNote
{
    public static async Task RunAsync(NodeContext node, ILogger logger, CancellationToken token)
    {
        var note = new TestNote($"written by {node.NodeId} at level 6");
        bool saidGated = false;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), token).ConfigureAwait(false);
                if (!MetadataLevelException.Allows(node.Raft.Metadata, note))
                {
                    if (!saidGated)
                    {
                        saidGated = true;
                        NodeLog.TestNoteGated(logger, node.Raft.Metadata.ClusterLevel);
                    }

                    continue;
                }

                if (node.Raft.IsLeader)
                {
                    await node.Raft.ReplicateAsync(note, token).ConfigureAwait(false);
                    NodeLog.TestNoteCommitted(logger, node.Raft.Metadata.LastAppliedIndex);
                    return;
                }
            }
            catch (Exception e) when (!token.IsCancellationRequested && e is not OperationCanceledException)
            {
                NodeLog.TestNoteGated(logger, node.Raft.Metadata.ClusterLevel);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
#endif
