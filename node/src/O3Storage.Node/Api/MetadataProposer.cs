// Owns: committing a metadata command from any node: directly on the leader, else through the leader's
// /internal/propose (forwarded at most once), followed by a read barrier so this node's state already
// shows the commit when the caller reads it back to choose its answer.
// Faults: no leader, an unreachable leader, or a refusal is a ProposeException (the S3 layer answers 503).
using System.Net;
using DotNext.Net.Cluster.Consensus.Raft;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Hosting;

namespace O3Storage.Node.Api;

internal sealed class ProposeException(string message) : Exception(message);

internal sealed class MetadataProposer(NodeContext node, PeerClient peers)
{
    public string? InternalBearer => InternalAuth.Bearer(node);

    /// <param name="forwarded">This node is itself handling a forwarded proposal: pass it on marked, so it is never passed on twice.</param>
    public async Task ProposeAsync(MetadataCommand command, CancellationToken token, bool forwarded = false)
    {
        if (node.Raft.IsLeader)
        {
            try
            {
                await node.Raft.ReplicateAsync(command, token).ConfigureAwait(false);
                return;
            }
            catch (NotLeaderException)
            {
                // Lost leadership just now: go through the new leader below.
            }
        }

        string leader = node.LeaderNodeId() ?? throw new ProposeException($"{node.NodeId} knows no leader; retry");
        (HttpStatusCode status, string? error) result;
        try
        {
            result = await peers.ProposeAsync(leader, MetadataCodec.Encode(command), InternalBearer, token, forwarded).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !token.IsCancellationRequested)
        {
            throw new ProposeException($"leader {leader} unreachable from {node.NodeId}: {PeerClient.Describe(e)}");
        }

        if (result.status != HttpStatusCode.NoContent)
        {
            throw new ProposeException($"leader {leader} did not commit: {result.error}");
        }

        await node.Raft.ReadBarrierAsync(token).ConfigureAwait(false);
    }
}
