// Owns: this node's Raft participant (DotNext over TCP on the cluster port), its write-ahead log and
// the metadata state machine, and the membership changes the leader makes.
// Assumes: one RaftNode per data directory and process (the host holds the directory lock).
// Faults: a lost leader surfaces as NotLeaderException/OperationCanceledException to the caller;
// membership changes are serialized here because DotNext refuses concurrent ones.
using System.Net;
using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Extensions.Logging;
using O3Storage.Cluster.Health;
using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Raft;

public sealed class RaftNode : IAsyncDisposable
{
    private readonly RaftCluster _cluster;
    private readonly DurableWriteAheadLog _wal;
    private readonly MetadataStateMachine _stateMachine;
    private readonly EndPointConfigurationStorage _configurationStorage;
    private readonly SemaphoreSlim _membershipLock = new(1, 1);
    private readonly RaftNodeOptions _options;
    private readonly CoalescedBarrier _barrier;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<EndPoint, string> _refusedPeers;
    private Task _recovery = Task.CompletedTask;
    private int _stopped;

    private RaftNode(RaftNodeOptions options, RaftCluster cluster, DurableWriteAheadLog wal, MetadataStateMachine stateMachine, EndPointConfigurationStorage configurationStorage, System.Collections.Concurrent.ConcurrentDictionary<EndPoint, string> refusedPeers)
    {
        _options = options;
        _refusedPeers = refusedPeers;
        _cluster = cluster;
        _barrier = new CoalescedBarrier(BarrierThroughElectionsAsync, TimeSpan.FromSeconds(5));
        _wal = wal;
        _stateMachine = stateMachine;
        _configurationStorage = configurationStorage;
    }

    public IPEndPoint ClusterEndPoint => _options.ClusterEndPoint;

    public MetadataState Metadata => _stateMachine.State;

    public MetadataStateMachine StateMachine => _stateMachine;

    public long Term => _cluster.Term;

    public bool IsLeader => !_cluster.LeadershipToken.IsCancellationRequested;

    /// <summary>True once this node is part of the Raft configuration (it may then vote and be elected).</summary>
    public bool IsMember => _cluster.Readiness.IsCompletedSuccessfully;

    public IPEndPoint? LeaderEndPoint => _cluster.Leader?.EndPoint as IPEndPoint;

    /// <summary>The leader's node id (its API address): <paramref name="selfNodeId"/> when this node leads, else the leader's member record's; null while no leader is known or it has no record.</summary>
    public string? LeaderNodeId(string selfNodeId)
    {
        string? leader = LeaderEndPoint?.ToString();
        return leader is null ? null
            : leader == ClusterEndPoint.ToString() ? selfNodeId
            : Metadata.FindByClusterEndPoint(leader)?.NodeId;
    }

    /// <summary>The certificates Raft's mutual TLS uses; null: plain TCP.</summary>
    public Security.ClusterTrust? Trust => _options.Trust;

    /// <summary>True while this node grants no vote (its log was found damaged and it has not caught up yet).</summary>
    public bool RefusesVotes => _wal.RefusesVotes;

    /// <summary>True while this node stays out of elections (standby: a handover, a removal, or a damaged log being rebuilt).</summary>
    public bool StaysOutOfElections => _cluster.Standby;

    public NodeRole Role => (IsMember, IsLeader, LeaderEndPoint) switch
    {
        (false, _, _) => NodeRole.Standby,
        (_, true, _) => NodeRole.Leader,
        (_, _, not null) => NodeRole.Follower,
        _ => NodeRole.Candidate,
    };

    /// <summary>Cluster endpoints in the current Raft configuration, this node included.</summary>
    public IReadOnlyList<IPEndPoint> ConfigurationMembers =>
        _cluster.Members.Select(m => m.EndPoint).OfType<IPEndPoint>().ToList();

    public event Action<IPEndPoint?>? LeaderChanged;

    /// <summary>
    /// Opens the log and joins Raft. A log whose checksums do not verify (a card that lost or tore pages it
    /// had acknowledged as flushed) is moved aside with its snapshots, said so in <see cref="LogHealth"/>,
    /// and this node starts again with an empty log that refuses every vote and stays out of elections until
    /// it has caught up with a leader (<see cref="Recovered"/>): its lost entries may be ones a majority
    /// needed it for, so its vote must not help elect a leader without them.
    /// </summary>
    public static async Task<RaftNode> StartAsync(RaftNodeOptions options, ILoggerFactory loggerFactory, CancellationToken token)
    {
        bool checksums = RaftLogFormat.Prepare(options.RaftDirectory, options.FsyncDirectory);
        // A recovery that a restart (or a crash mid-move) interrupted goes on: no vote until caught up.
        RaftLogHealth? unfinished = RaftLogFormat.ReadRecovering(options.RaftDirectory);
        try
        {
            return await OpenAsync(options, loggerFactory, checksums, unfinished, token).ConfigureAwait(false);
        }
        // Only what the integrity check itself throws: an entry that fails to apply (a bug, a downgrade)
        // also surfaces as an IntegrityException (InternalException) and must stop the node, not wipe its log.
        catch (Exception e) when (checksums && e is WriteAheadLog.HashMismatchException or WriteAheadLog.MissingPageException)
        {
            DateTimeOffset now = DateTimeOffset.UtcNow;
            string aside = RaftLogFormat.AsidePath(options.RaftDirectory, now);
            var damage = new RaftLogHealth(true, RaftLogHealth.Recovering, $"{e.GetType().Name}: {e.Message}", now, aside);
            RaftLogFormat.MarkRecovering(options.RaftDirectory, damage, options.FsyncDirectory);
            RaftLogFormat.MoveAside(options.RaftDirectory, aside, options.FsyncDirectory);
            RaftLogFormat.Prepare(options.RaftDirectory, options.FsyncDirectory);
            return await OpenAsync(options, loggerFactory, checksums: true, damage, token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The metadata this node's log has committed, read without joining Raft (no network, no vote): what a
    /// <c>--bootstrap</c> on a directory with state decides from (which members to ask whether its cluster
    /// lives on). Null when the log cannot be read (damaged: the normal start handles that).
    /// </summary>
    public static async Task<MetadataState?> ReadCommittedAsync(RaftNodeOptions options, CancellationToken token)
    {
        bool checksums = RaftLogFormat.Prepare(options.RaftDirectory, options.FsyncDirectory);
        var stateMachine = new MetadataStateMachine(new DirectoryInfo(RaftNodeOptions.SnapshotDirectory(options.RaftDirectory)));
        try
        {
            await stateMachine.RestoreAsync(token).ConfigureAwait(false);
            await using var wal = new WriteAheadLog(
                new WriteAheadLog.Options
                {
                    Location = RaftNodeOptions.WalDirectory(options.RaftDirectory),
                    ChunkSize = options.WalChunkSizeBytes,
                    HashAlgorithm = checksums ? RaftLogFormat.Hash : WriteAheadLog.IntegrityHashAlgorithm.None,
                },
                stateMachine);
            await wal.InitializeAsync(token).ConfigureAwait(false);
            return stateMachine.State;
        }
        catch (Exception e) when (e is WriteAheadLog.HashMismatchException or WriteAheadLog.MissingPageException or IntegrityException or MetadataFormatException)
        {
            return null;
        }
    }

    private static async Task<RaftNode> OpenAsync(RaftNodeOptions options, ILoggerFactory loggerFactory, bool checksums, RaftLogHealth? damage, CancellationToken token)
    {
        Directory.CreateDirectory(RaftNodeOptions.WalDirectory(options.RaftDirectory));
        Directory.CreateDirectory(RaftNodeOptions.SnapshotDirectory(options.RaftDirectory));

        var stateMachine = new MetadataStateMachine(new DirectoryInfo(RaftNodeOptions.SnapshotDirectory(options.RaftDirectory)), options.ApplyTrace, options.InlineBlobs, options.SnapshotFetcher, options.FsyncDirectory);
        await stateMachine.RestoreAsync(token).ConfigureAwait(false);
        DirectoryDurability? names = options.FsyncDirectory is { } fsync ? new DirectoryDurability(DirectoryDurability.RaftDirectories(options.RaftDirectory), fsync, DirectoryDurability.PageDirectories(options.RaftDirectory)) : null;
        var wal = new DurableWriteAheadLog(
            new WriteAheadLog.Options
            {
                Location = RaftNodeOptions.WalDirectory(options.RaftDirectory),
                ChunkSize = options.WalChunkSizeBytes,
                HashAlgorithm = checksums ? RaftLogFormat.Hash : WriteAheadLog.IntegrityHashAlgorithm.None,
            },
            new SnapshotsByReference(stateMachine, options.SnapshotFetcher is null ? null : options.NodeId),
            names is null ? null : () => names.SyncNewNames(),
            options.WalFlushed);
        names?.SyncNewNames(); // what opening the log created (its first pages, state, checkpoint)
        if (damage is not null)
        {
            wal.RefuseVotes();
        }
        var configurationStorage = new EndPointConfigurationStorage(RaftNodeOptions.MembersFile(options.RaftDirectory));
        long lastIndex = ((DotNext.IO.Log.IAuditTrail)wal).LastEntryIndex;
        if (options.ColdStart && lastIndex > 0 && damage is null)
        {
            // A new cluster from this log (RefoundCluster): this node alone, as of the log's last index.
            // DotNext's own cold start stores it as of index 0, and its log, replaying the old memberships
            // it holds once Raft gives it the storage, then makes the node a follower of its old members
            // again, unable to elect itself; whether it did depended on how far the replay had got first.
            if (!await configurationStorage.StoreSoleMemberAsync(options.ClusterEndPoint, lastIndex, token).ConfigureAwait(false))
            {
                await wal.DisposeAsync().ConfigureAwait(false);
                throw new InvalidOperationException($"{RaftNodeOptions.MembersFile(options.RaftDirectory)}: a membership as of index {lastIndex} or later is stored already; a new cluster starts from a log without one");
            }
        }

        // The last refusal of each peer this node dialled: a join that fails on it says why.
        var refusedPeers = new System.Collections.Concurrent.ConcurrentDictionary<EndPoint, string>();
        void Refused(EndPoint? dialled, string reason)
        {
            if (dialled is not null)
            {
                refusedPeers[dialled] = reason;
            }

            options.TlsRefused?.Invoke(dialled, reason);
        }

        var configuration = new RaftCluster.TcpConfiguration(options.ClusterEndPoint)
        {
            LowerElectionTimeout = (int)options.LowerElectionTimeout.TotalMilliseconds,
            UpperElectionTimeout = (int)options.UpperElectionTimeout.TotalMilliseconds,
            RequestTimeout = options.RequestTimeout,
            ConnectTimeout = options.ConnectTimeout,
            TransmissionBlockSize = 64 * 1024,
            ColdStart = options.ColdStart,
            // A joiner's log is caught up before it becomes a voter; our metadata log is small, so
            // few rounds suffice and the join does not wait out many heartbeats.
            WarmupRounds = 3,
            // Heartbeat every quarter election timeout (50-100 ms): a retried replication or a
            // joiner learning its leader waits one heartbeat, so this is what a join costs.
            HeartbeatThreshold = 0.25,
            // A follower that stops hearing the leader asks everyone before it stands (pre-vote), and a
            // leader that is alive refuses: a leader slowed by load is not replaced, so the election
            // timeout can stay short enough for a dead one to be replaced quickly.
            AggressiveLeaderStickiness = true,
            ConfigurationStorage = configurationStorage,
            LoggerFactory = loggerFactory,
            SslOptions = options.Trust is { } trust ? new RaftSslOptions(trust, Refused) : null,
        };

        var cluster = new RaftCluster(configuration) { AuditTrail = wal };
        var node = new RaftNode(options, cluster, wal, stateMachine, configurationStorage, refusedPeers)
        {
            LogHealth = damage ?? new RaftLogHealth(checksums, RaftLogHealth.Ok, checksums ? null : "this log was created before checksums; it gets them when the node is next wiped and rejoined", null, null),
        };
        cluster.LeaderChanged += (_, leader) => node.LeaderChanged?.Invoke(leader?.EndPoint as IPEndPoint);
        try
        {
            await cluster.StartAsync(token).ConfigureAwait(false);
            if (damage is not null)
            {
                await cluster.EnableStandbyModeAsync(token).ConfigureAwait(false);
                // On the thread pool: a read barrier with no leader known does not always yield at once.
                node._recovery = Task.Run(() => node.RecoverAsync(node._lifetime.Token), CancellationToken.None);
            }
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return node;
    }

    /// <summary>The log's integrity as /health shows it: checksums on or not, and any damage found at start.</summary>
    public RaftLogHealth LogHealth { get; private set; } = RaftLogHealth.Unchecked;

    /// <summary>Completes when a node that started on a damaged log has caught up with a leader and votes again; at once otherwise.</summary>
    public Task Recovered => _recovery;

    /// <summary>
    /// Waits for a leader, then for a read barrier through it (this node has applied everything the leader
    /// had committed), then votes again, in later terms only, and stands for election again.
    /// </summary>
    private async Task RecoverAsync(CancellationToken token)
    {
        while (true)
        {
            try
            {
                await BarrierThroughElectionsAsync(token).ConfigureAwait(false);
                _wal.AllowVotesAbove(_cluster.Term);
                await _cluster.RevertToNormalModeAsync(token).ConfigureAwait(false);
                RaftLogFormat.ClearRecovering(_options.RaftDirectory, _options.FsyncDirectory);
                LogHealth = LogHealth with { State = RaftLogHealth.Recovered, RecoveredAtIndex = Metadata.LastAppliedIndex };
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
            {
                await Task.Delay(200, token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Commits <paramref name="command"/> through the leader; returns once it is applied here.</summary>
    /// <exception cref="NotLeaderException">This node is not the leader: nothing was appended, so proposing it through the leader is safe.</exception>
    /// <exception cref="CommitOutcomeUnknownException">The leadership ended after the command was appended: it may yet be committed.</exception>
    /// <exception cref="MetadataLevelException">The command is of a metadata level the cluster has not reached: nothing was appended.</exception>
    public async Task ReplicateAsync(MetadataCommand command, CancellationToken token)
    {
        if (!MetadataLevelException.Allows(Metadata, command))
        {
            throw new MetadataLevelException(command, Metadata.ClusterLevel);
        }

        byte[] payload = MetadataCodec.Encode(command);
        try
        {
            await _cluster.ReplicateAsync(new ReadOnlyMemory<byte>(payload), null, token).ConfigureAwait(false);
        }
        // DotNext 6.12 throws NotLeaderException without an inner exception when it refuses before appending
        // (not the leader), and with one (the leadership's cancellation, or its disposal) once it has appended.
        catch (NotLeaderException e) when (e.InnerException is not null)
        {
            throw new CommitOutcomeUnknownException($"leadership lost after the command was appended to the log (term {_cluster.Term}); it may or may not be committed", e);
        }

        // Durable on a majority by now: the leader commits only what a majority acknowledged, and a
        // member acknowledges only what is on its disk (DurableWriteAheadLog); the leader's own commit
        // waited for its flush. (DotNext alone lets a follower acknowledge from its page cache; one more
        // replication round here used to narrow that window, and is no longer needed.)
    }

    /// <summary>
    /// A read barrier that outlasts a leader election: while no leader answers (the old one stopped, a new
    /// one is being elected, about a second) it tries again every 50 ms until its deadline, so a read
    /// during a leader change waits instead of failing.
    /// </summary>
    private async Task BarrierThroughElectionsAsync(CancellationToken token)
    {
        while (true)
        {
            try
            {
                await _cluster.ApplyReadBarrierAsync(token).ConfigureAwait(false);
                if (!_stateMachine.Ready.IsCompleted)
                {
                    // A snapshot sent by reference is still on its way: the state is older than the log says.
                    await _stateMachine.Ready.WaitAsync(token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    continue;
                }

                // DotNext's leader answers a follower's barrier with its commit index even before it has
                // committed the entry it appended on taking office, while entries of earlier terms (writes
                // an old leader acknowledged) are not yet committed in its view: a follower read right after
                // an election could miss them. Its own barrier waits for that entry; here every node waits
                // until it has applied an entry of the current term (the leader's first is an empty entry, which the
                // log applies without calling the state machine, so the log is asked, not the state).
                // (No shortcut for a leader: this barrier may have been answered while it was a follower.
                // A leader's own barrier waits for its first entry, so it passes this check at once.)
                if (await AppliedTermAsync(token).ConfigureAwait(false) >= _cluster.Term)
                {
                    return;
                }

                await Task.Delay(10, token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException && !token.IsCancellationRequested)
            {
                await Task.Delay(50, token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The term of the last entry the log has applied here (0 before any).</summary>
    private ValueTask<long> AppliedTermAsync(CancellationToken token)
    {
        long applied = _wal.LastAppliedIndex;
        return applied == 0 ? ValueTask.FromResult(0L) : TermReader.TermAtAsync(_wal, applied, token);
    }

    /// <summary>Linearizable read point: afterwards <see cref="Metadata"/> reflects every write committed before the call.</summary>
    /// <remarks>Concurrent callers share barriers (see <see cref="CoalescedBarrier"/>).</remarks>
    public Task ReadBarrierAsync(CancellationToken token) => _barrier.WaitAsync(token);

    /// <summary>This node's newest snapshot file when it is at <paramref name="minIndex"/> or later, for a member fetching what a reference names (<see cref="MetadataStateMachine.OpenSnapshot"/>).</summary>
    public (FileStream Stream, long Index)? OpenSnapshot(long minIndex) => _stateMachine.OpenSnapshot(minIndex);

    public Task WaitForLeaderAsync(TimeSpan timeout, CancellationToken token) => _cluster.WaitForLeaderAsync(timeout, token);

    /// <summary>
    /// Leader only: adds <paramref name="clusterEndPoint"/> to the Raft configuration (after catching it up)
    /// and commits its member record. Idempotent: an existing member only gets its record refreshed.
    /// </summary>
    public async Task AddMemberAsync(string nodeId, IPEndPoint clusterEndPoint, Guid uuid, CancellationToken token)
    {
        await _membershipLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (!IsLeader)
            {
                throw new NotLeaderException();
            }

            if (!ConfigurationMembers.Contains(clusterEndPoint))
            {
                _refusedPeers.TryRemove(clusterEndPoint, out _);
                if (!await _cluster.AddMemberAsync(clusterEndPoint, token).ConfigureAwait(false))
                {
                    throw new MembershipChangeException(_refusedPeers.TryGetValue(clusterEndPoint, out string? refused)
                        ? $"the cluster did not accept {nodeId} ({clusterEndPoint}): its Raft port was refused: {refused}"
                        : $"the cluster did not accept {nodeId} ({clusterEndPoint}): it did not catch up with the log or the change could not be committed");
                }
            }

            MemberRecord? record = Metadata.Members.GetValueOrDefault(nodeId);
            if (record is null || record.Uuid != uuid || record.ClusterEndPoint != clusterEndPoint.ToString())
            {
                await ReplicateAsync(new AddMember(nodeId, clusterEndPoint.ToString(), uuid), token).ConfigureAwait(false);
            }

            // Push the new configuration and commit index now rather than at the next heartbeat,
            // so the joiner learns it is a member (and who leads) without waiting up to 200 ms.
            await _cluster.ForceReplicationAsync(token).ConfigureAwait(false);
        }
        finally
        {
            _membershipLock.Release();
        }
    }

    /// <summary>
    /// Leader only: removes a member's endpoint from the Raft configuration, then commits its removal
    /// from the metadata. In this order a failure in between leaves a member record without a voter,
    /// which the leader finishes later (<see cref="RecordsWithoutVoters"/>), never a voter the metadata
    /// forgot: that one would count toward the quorum for good.
    /// </summary>
    public async Task RemoveMemberAsync(string nodeId, IPEndPoint clusterEndPoint, long removedUnixMs, CancellationToken token)
    {
        await _membershipLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (!IsLeader)
            {
                throw new NotLeaderException();
            }

            if (ConfigurationMembers.Contains(clusterEndPoint) && !await _cluster.RemoveMemberAsync(clusterEndPoint, token).ConfigureAwait(false))
            {
                throw new MembershipChangeException($"the cluster could not commit the removal of {nodeId} ({clusterEndPoint})");
            }

            if (Metadata.Members.ContainsKey(nodeId))
            {
                await ReplicateAsync(new RemoveMember(nodeId, removedUnixMs), token).ConfigureAwait(false);
            }
        }
        finally
        {
            _membershipLock.Release();
        }
    }

    /// <summary>Member records whose endpoint is no longer in the Raft configuration: removals cut short between their two steps.</summary>
    public IReadOnlyList<MemberRecord> RecordsWithoutVoters()
    {
        var voters = ConfigurationMembers.Select(e => e.ToString()).ToHashSet(StringComparer.Ordinal);
        return [.. Metadata.Members.Values.Where(m => !voters.Contains(m.ClusterEndPoint))];
    }

    /// <summary>
    /// Leader only: gives leadership away before this node is removed. It resigns and stays out of
    /// elections (standby) until another member leads, at most <paramref name="timeout"/>; true when one
    /// does. On false it is back to normal (it may lead again), so a failed handover changes nothing.
    /// </summary>
    public async Task<bool> HandOverAsync(TimeSpan timeout, CancellationToken token)
    {
        await _cluster.EnableStandbyModeAsync(token).ConfigureAwait(false);
        await ((DotNext.Net.Cluster.ICluster)_cluster).ResignAsync(token).ConfigureAwait(false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
        deadline.CancelAfter(timeout);
        try
        {
            while (LeaderEndPoint is null || LeaderEndPoint.Equals(ClusterEndPoint))
            {
                await Task.Delay(10, deadline.Token).ConfigureAwait(false);
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            // No successor in time, or the caller gave up: either way this node may lead again.
            await _cluster.RevertToNormalModeAsync(CancellationToken.None).ConfigureAwait(false);
            if (token.IsCancellationRequested)
            {
                throw;
            }

            return false;
        }
    }

    /// <summary>Lets this node stand for election again after a handover whose removal did not happen.</summary>
    public Task ResumeCandidacyAsync() => _cluster.RevertToNormalModeAsync(CancellationToken.None).AsTask();

    /// <summary>Takes this node out of elections for good (it was removed from the cluster) and stops serving Raft.</summary>
    public async Task LeaveAsync(CancellationToken token)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        if (IsMember)
        {
            await _cluster.EnableStandbyModeAsync(token).ConfigureAwait(false);
        }

        await _cluster.StopAsync(token).ConfigureAwait(false);
    }

    /// <summary>
    /// Graceful stop: a leader steps down and stays out of the next election so a follower takes over,
    /// waits (bounded) until one has, then stops serving Raft.
    /// </summary>
    public async Task StopAsync(TimeSpan handoverTimeout, CancellationToken token)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        if (IsLeader && ConfigurationMembers.Count > 1)
        {
            await ((DotNext.Net.Cluster.ICluster)_cluster).ResignAsync(token).ConfigureAwait(false);
            await _cluster.EnableStandbyModeAsync(token).ConfigureAwait(false);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
            deadline.CancelAfter(handoverTimeout);
            try
            {
                while (LeaderEndPoint is null || LeaderEndPoint.Equals(ClusterEndPoint))
                {
                    await Task.Delay(10, deadline.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                // No successor within the timeout (e.g. no quorum left): stop anyway.
            }
        }
        else if (IsMember)
        {
            await _cluster.EnableStandbyModeAsync(token).ConfigureAwait(false);
        }

        await _cluster.StopAsync(token).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _lifetime.CancelAsync().ConfigureAwait(false);
        await _recovery.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _lifetime.Dispose();
        _cluster.Dispose();
        await _wal.DisposeAsync().ConfigureAwait(false);
        await _stateMachine.DisposeAsync().ConfigureAwait(false);
        _configurationStorage.Dispose();
        _membershipLock.Dispose();
    }
}
