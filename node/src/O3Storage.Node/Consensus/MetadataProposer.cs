// Owns: committing a metadata command from any node: directly on the leader, else through the leader's
// /internal/propose (forwarded at most once), followed by a read barrier so this node's state already
// shows the commit when the caller reads it back to choose its answer.
// Commands proposed while this node's previous proposal is in flight wait and then go together as one
// Batch: one log entry, one forward, one barrier for all of them (natural batching: no timer, so a
// lone request pays nothing and a busy node commits many requests per round).
// Faults: no leader, an unreachable leader, or a refusal is a ProposeException (the S3 layer answers 503).
// A command is proposed again through the new leader only when the old one had not appended it: one
// it had appended may still commit, and a second copy would apply twice (CommitOutcomeUnknownException).
using System.Net;
using DotNext.Net.Cluster.Consensus.Raft;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;
using O3Storage.Node.Transport;

namespace O3Storage.Node.Consensus;

internal sealed class ProposeException(string message) : Exception(message);

/// <param name="bearer">The cluster's admin key when authentication is on: the leader accepts forwarded proposals only with it.</param>
internal sealed class MetadataProposer(RaftNode raft, string nodeId, PeerClient peers, string? bearer, Diagnostics.NodeMetrics? metrics = null)
{
    /// <summary>At most this many commands go in one batch.</summary>
    public const int BatchCommandsMax = 256;

    /// <summary>At most this many encoded bytes go in one batch; a larger command goes alone.</summary>
    public const int BatchBytesMax = 512 * 1024;

    /// <summary>How long one batch may take to commit before its waiters hear 503.</summary>
    private static readonly TimeSpan s_batchTimeout = TimeSpan.FromSeconds(5);

    private readonly object _gate = new();
    private readonly Queue<(MetadataCommand Command, TaskCompletionSource Done)> _waiting = new();
    private bool _pumping;

    /// <summary>Commits <paramref name="command"/>, batched with whatever else this node is proposing.</summary>
    /// <param name="forwarded">This node is itself handling a forwarded proposal: commit it as it came, marked, so it is never passed on twice.</param>
    public async Task ProposeAsync(MetadataCommand command, CancellationToken token, bool forwarded = false)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        await ProposeUnmeasuredAsync(command, token, forwarded).ConfigureAwait(false);
        metrics?.RaftCommitted(started);
    }

    private Task ProposeUnmeasuredAsync(MetadataCommand command, CancellationToken token, bool forwarded)
    {
        if (forwarded || !Batch.MayHold(command))
        {
            return CommitAsync(command, token, forwarded);
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (_gate)
        {
            _waiting.Enqueue((command, done));
            start = !_pumping;
            _pumping = true;
        }

        if (start)
        {
            _ = Task.Run(PumpAsync, CancellationToken.None);
        }

        return done.Task.WaitAsync(token);
    }

    /// <summary>Commits what is waiting, a batch at a time, until nothing is.</summary>
    private async Task PumpAsync()
    {
        while (true)
        {
            List<(MetadataCommand Command, TaskCompletionSource Done)> batch = [];
            lock (_gate)
            {
                int bytes = 0;
                while (batch.Count < BatchCommandsMax && _waiting.TryPeek(out var next))
                {
                    int size = MetadataCodec.Encode(next.Command).Length;
                    if (batch.Count > 0 && bytes + size > BatchBytesMax)
                    {
                        break; // the next batch starts with it
                    }

                    _waiting.Dequeue();
                    batch.Add(next);
                    bytes += size;
                }

                if (batch.Count == 0)
                {
                    _pumping = false;
                    return;
                }
            }

            MetadataCommand command = batch.Count == 1 ? batch[0].Command : new Batch([.. batch.Select(b => b.Command)]);
            using var timeout = new CancellationTokenSource(s_batchTimeout);
            try
            {
                await CommitAsync(command, timeout.Token, forwarded: false).ConfigureAwait(false);
                batch.ForEach(b => b.Done.TrySetResult());
            }
            catch (Exception e)
            {
                batch.ForEach(b => b.Done.TrySetException(e));
            }
        }
    }

    private async Task CommitAsync(MetadataCommand command, CancellationToken token, bool forwarded)
    {
        if (raft.IsLeader)
        {
            try
            {
                await raft.ReplicateAsync(command, token).ConfigureAwait(false);
                return;
            }
            catch (NotLeaderException)
            {
                // Not the leader any more, and nothing was appended: go through the new leader below.
            }
            catch (CommitOutcomeUnknownException e)
            {
                // Appended, then the leadership ended: proposing it again could apply it twice.
                throw new ProposeException($"{nodeId}: {e.Message}; retry");
            }
        }

        string leader = raft.LeaderNodeId(nodeId) ?? throw new ProposeException($"{nodeId} knows no leader; retry");
        (HttpStatusCode status, string? error) result;
        try
        {
            result = await peers.ProposeAsync(leader, MetadataCodec.Encode(command), bearer, token, forwarded).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !token.IsCancellationRequested)
        {
            throw new ProposeException($"leader {leader} unreachable from {nodeId}: {PeerClient.Describe(e)}");
        }

        if (result.status != HttpStatusCode.NoContent)
        {
            throw new ProposeException($"leader {leader} did not commit: {result.error}");
        }

        await raft.ReadBarrierAsync(token).ConfigureAwait(false);
    }
}
