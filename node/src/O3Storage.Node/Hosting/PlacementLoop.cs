// Owns: keeping every object on its placement, and the membership changes that follow from it. Every
// node surveys the placement for /health (under-replicated objects); the leader alone (one decider, so
// two nodes never move the same object) also moves what is misplaced, repairs first, through the data
// path's ReplicaMover, paced by --rebalance-rate and the board's temperature, and then removes what
// the cluster no longer needs: a draining member that holds nothing (handing leadership over first when
// it is itself), or a member dead past the grace whose objects live elsewhere (MembershipCleanup).
// Bounded: a limited number of moves per round; every Raft call has a timeout; stops with its token.
using System.Net;
using Microsoft.Extensions.Logging;
using O3Storage.Cluster;
using O3Storage.Cluster.Lifecycle;
using O3Storage.Cluster.Membership;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;
using O3Storage.Node.Consensus;
using O3Storage.Node.Data;
using O3Storage.Node.Diagnostics;

namespace O3Storage.Node.Hosting;

internal sealed class PlacementLoop(string selfNodeId, RaftNode raft, PeerTable peers, NodeLifecycle lifecycle, DataPath data, long bytesPerSecond, TimeProvider time, ILogger logger)
{
    public static readonly TimeSpan IdleInterval = TimeSpan.FromSeconds(5);
    /// <summary>The pause between rounds while there is work: a breath for Raft and clients, not a wait.</summary>
    public static readonly TimeSpan BusyInterval = TimeSpan.FromMilliseconds(20);
    private const int MovesPerRound = 256;
    private const int MovesInParallel = 8;
    private static readonly TimeSpan s_membershipTimeout = TimeSpan.FromSeconds(10);

    private readonly SurveyCache _surveys = new();

    /// <summary>The share of the normal pace to run at now: 1.0, less on a hot board.</summary>
    public Func<double> WorkFactor { get; init; } = static () => 1.0;

    public async Task RunAsync(CancellationToken token)
    {
        TimeSpan next = TimeSpan.FromSeconds(1); // the first survey soon after start, so /health has one
        while (true)
        {
            await lifecycle.SleepAsync(next, token).ConfigureAwait(false);
            try
            {
                next = await RoundAsync(token).ConfigureAwait(false) ? BusyInterval : IdleInterval;
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                next = IdleInterval;
                lifecycle.Rebalance.Failed(e.Message);
                NodeLog.PlacementRoundFailed(logger, e.Message, e);
            }
        }
    }

    /// <summary>One round; true when the leader moved something (more is likely waiting).</summary>
    private async Task<bool> RoundAsync(CancellationToken token)
    {
        MetadataState state = raft.Metadata;
        MemberLiveness live = peers.Liveness(state.Members.Keys, selfNodeId, lifecycle.DeadNodeGrace);
        PlacementSurvey survey = _surveys.Survey(state, live);
        lifecycle.Survey = survey;
        if (!raft.IsLeader || lifecycle.IsRemoved)
        {
            return false;
        }

        lifecycle.Rebalance.Observe(survey);
        // Every move the plan would make is a misplaced object the survey counted: none, no second walk.
        List<ReplicaMove> moves = survey.Misplaced == 0 ? [] : ReplicaPlanner.Plan(state, live, MovesPerRound);
        int moved = 0;
        long bytes = 0;
        long roundStarted = time.GetTimestamp();
        // Several moves at once: each is mostly waiting (a fetch, a store, a commit), and their commits
        // share Raft rounds (the proposer batches what arrives while one is in flight).
        await Parallel.ForEachAsync(moves, new ParallelOptions { MaxDegreeOfParallelism = MovesInParallel, CancellationToken = token }, async (move, cancel) =>
        {
            if (!raft.IsLeader)
            {
                return;
            }

            try
            {
                MoveOutcome outcome = await data.Mover.MoveAsync(move, bad => data.Report(move.Bucket, move.Version.Key, bad), cancel).ConfigureAwait(false);
                lifecycle.Rebalance.Moved(outcome.BytesCopied);
                Interlocked.Increment(ref moved);
                NodeLog.ReplicasMoved(logger, move.Reason.ToString().ToLowerInvariant(), move.Bucket, move.Version.Key, string.Join(",", move.Version.Replicas), string.Join(",", outcome.Replicas));
                await PaceAsync(Interlocked.Add(ref bytes, outcome.BytesCopied), time.GetElapsedTime(roundStarted), cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MoveException or Transport.ReplicaException or ObjectUnreadableException or ProposeException
                or DotNext.Net.Cluster.Consensus.Raft.NotLeaderException or CommitOutcomeUnknownException or OperationCanceledException && !cancel.IsCancellationRequested)
            {
                lifecycle.Rebalance.Failed($"{move.Bucket}/{move.Version.Key}: {e.Message}");
                NodeLog.RepairFailed(logger, move.Bucket, move.Version.Key, e.Message);
            }
        }).ConfigureAwait(false);

        if (moves.Count > 0 && moved == 0)
        {
            lifecycle.Rebalance.RoundFailed();
        }

        await CleanUpMembersAsync(token).ConfigureAwait(false);
        return moved > 0; // rounds whose moves all failed wait the idle interval: no spinning on a stuck target
    }

    /// <summary>Waits so that the round's copying (<paramref name="bytes"/> so far, in <paramref name="took"/>) averages at most the byte rate, scaled down on a hot board.</summary>
    private async Task PaceAsync(long bytes, TimeSpan took, CancellationToken token)
    {
        if (bytesPerSecond <= 0 || bytes == 0)
        {
            return;
        }

        double rate = bytesPerSecond * Math.Clamp(WorkFactor(), 0.1, 1.0);
        TimeSpan due = TimeSpan.FromSeconds(bytes / rate) - took;
        if (due > TimeSpan.Zero)
        {
            await Task.Delay(due, time, token).ConfigureAwait(false);
        }
    }

    /// <summary>How long a member record must have been without a Raft voter before the leader finishes its removal.</summary>
    private static readonly TimeSpan s_unfinishedRemovalAge = TimeSpan.FromSeconds(10);

    /// <summary>Member records seen without a voter, and since when (this leader's view).</summary>
    private readonly Dictionary<string, long> _withoutVoter = new(StringComparer.Ordinal);

    /// <summary>
    /// At most one membership change per round: finish a removal cut short between its two steps, or
    /// remove a drained member, or one dead past the grace whose objects were rebuilt. Decided under the
    /// removal lock, from the state read after taking it, so an admin removal cannot interleave.
    /// </summary>
    private async Task CleanUpMembersAsync(CancellationToken token)
    {
        if (!await lifecycle.Removals.WaitAsync(0, token).ConfigureAwait(false))
        {
            return;
        }

        string? leaving = null;
        try
        {
            MetadataState state = raft.Metadata;
            MemberLiveness live = peers.Liveness(state.Members.Keys, selfNodeId, lifecycle.DeadNodeGrace);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(s_membershipTimeout);
            if (UnfinishedRemoval() is { } unfinished)
            {
                leaving = unfinished.NodeId;
                await raft.RemoveMemberAsync(unfinished.NodeId, IPEndPoint.Parse(unfinished.ClusterEndPoint), time.GetUtcNow().ToUnixTimeMilliseconds(), timeout.Token).ConfigureAwait(false);
                NodeLog.MemberRemoved(logger, unfinished.NodeId, "finishing a removal that was cut short (no longer a Raft voter)");
                return;
            }

            string? drained = MembershipCleanup.DrainedMember(state, live);
            leaving = drained ?? MembershipCleanup.DeadMember(state, live);
            if (leaving is null)
            {
                return;
            }

            if (leaving == selfNodeId)
            {
                // The leader drained itself: a successor removes it.
                NodeLog.HandingOverToBeRemoved(logger, selfNodeId);
                await raft.HandOverAsync(TimeSpan.FromSeconds(5), timeout.Token).ConfigureAwait(false);
                return;
            }

            await raft.RemoveMemberAsync(leaving, IPEndPoint.Parse(state.Members[leaving].ClusterEndPoint), time.GetUtcNow().ToUnixTimeMilliseconds(), timeout.Token).ConfigureAwait(false);
            NodeLog.MemberRemoved(logger, leaving, drained is not null ? "its drain is complete" : $"down longer than {lifecycle.DeadNodeGrace.TotalSeconds:0} s and its objects live elsewhere");
        }
        catch (Exception e) when (e is MembershipChangeException or DotNext.Net.Cluster.Consensus.Raft.NotLeaderException or CommitOutcomeUnknownException or OperationCanceledException && !token.IsCancellationRequested)
        {
            NodeLog.RemovalFailed(logger, leaving ?? "-", e.Message);
        }
        finally
        {
            lifecycle.Removals.Release();
        }
    }

    /// <summary>A member record that has had no Raft voter for a while (a join adds the voter first, so a fresh one is never taken).</summary>
    private MemberRecord? UnfinishedRemoval()
    {
        IReadOnlyList<MemberRecord> orphans = raft.RecordsWithoutVoters();
        foreach (string id in _withoutVoter.Keys.Where(id => !orphans.Any(o => o.NodeId == id)).ToList())
        {
            _withoutVoter.Remove(id);
        }

        long now = time.GetTimestamp();
        foreach (MemberRecord orphan in orphans)
        {
            if (!_withoutVoter.TryGetValue(orphan.NodeId, out long since))
            {
                _withoutVoter[orphan.NodeId] = now;
            }
            else if (time.GetElapsedTime(since) >= s_unfinishedRemovalAge)
            {
                return orphan;
            }
        }

        return null;
    }
}
