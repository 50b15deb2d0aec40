// Owns: the life of one node process: checks that can fail before anything is written (ports,
// peers), the data directory, Raft, the HTTP server, bootstrap or join, and the graceful stop.
// Faults: operating errors before serving are StartupExceptions (one line, exit 1); a fresh node that
// fails to bootstrap or join removes what it wrote, so a retry starts clean.
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using O3Storage.Cluster;
using O3Storage.Cluster.Health;
using O3Storage.Cluster.Membership;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;
using O3Storage.Cluster.Security;
using O3Storage.Firmware;
using O3Storage.Firmware.Boards;
using O3Storage.Firmware.Status;
using O3Storage.Node.Admin;
using O3Storage.Node.Api;
using O3Storage.Node.Auth;
using O3Storage.Node.CommandLine;
using O3Storage.Node.Consensus;
using O3Storage.Node.Data;
using O3Storage.Node.Diagnostics;
using O3Storage.Node.Transport;
using O3Storage.Provisioning;
using O3Storage.Provisioning.Avahi;

namespace O3Storage.Node.Hosting;

internal sealed class NodeHost(NodeOptions options, string version, Stopwatch uptime)
{
    private static readonly TimeSpan s_handoverTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan s_bootstrapTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_readyLeaderWait = TimeSpan.FromSeconds(10);

    public async Task<int> RunAsync()
    {
        using var shutdown = new CancellationTokenSource();
        string stopReason = "signal";
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stopReason = "SIGTERM";
            shutdown.Cancel();
        });
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            stopReason = "SIGINT";
            shutdown.Cancel();
        });

        using ILoggerFactory loggerFactory = CreateLoggerFactory(options.LogLevel, options.LogFilePath, _events);
        ILogger logger = loggerFactory.CreateLogger("o3storage");
        NodeLog.Starting(logger, version, options.NodeId, options.Cluster.ToString(), options.DataDirectory);

        // systemd arms WatchdogSec once READY=1 arrives; feeding it from the start costs nothing and
        // keeps a node whose READY is late (a long join) from depending on that detail.
        // First, so the LED shows booting at once; a broken --board profile stops here, before anything runs.
        using HardwareMonitor hardware = OpenHardware(logger);
        _hardware = hardware;
        using SystemdNotifier systemd = SystemdNotifier.FromEnvironment();
        using var watchdogStop = new CancellationTokenSource();
        Task watchdog = systemd.RunWatchdogAsync(() => _alive(), TimeProvider.System, watchdogStop.Token);
        systemd.Status($"starting node {options.NodeId}");
        try
        {
            return await RunCoreAsync(shutdown, loggerFactory, logger, () => stopReason, systemd).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            // systemctl stop while still starting (e.g. waiting for peers) is a normal stop, not a failure.
            NodeLog.StoppedWhileStarting(logger, stopReason);
            return 0;
        }
        finally
        {
            await watchdogStop.CancelAsync().ConfigureAwait(false);
            await watchdog.ConfigureAwait(false);
        }
    }

    /// <summary>The board's LED and sensors, open for the whole run (the LED shows booting from the first moment).</summary>
    private HardwareMonitor _hardware = null!;

    /// <summary>The node's last log events, for the dashboard.</summary>
    private readonly RecentEvents _events = new(TimeProvider.System);

    /// <summary>What the systemd watchdog asks before each keep-alive; set to the metadata apply's health once Raft runs.</summary>
    private Func<bool> _alive = static () => true;

    /// <summary>
    /// Thread-pool threads kept ready. Blob reads are blocking O_DIRECT preads on pool threads; with the
    /// default minimum (one per core) a few concurrent 64 MiB GETs took every thread, the pool added
    /// more only about once a second, and Raft's own continuations (read barriers, heartbeats) waited
    /// behind them for seconds (GETs then answered 503). Threads are cheap; starvation is not.
    /// </summary>
    public const int MinPoolThreads = 64;

    private async Task<int> RunCoreAsync(CancellationTokenSource shutdown, ILoggerFactory loggerFactory, ILogger logger, Func<string> stopReason, SystemdNotifier systemd)
    {
        ThreadPool.GetMinThreads(out int workers, out int completions);
        ThreadPool.SetMinThreads(Math.Max(workers, MinPoolThreads), Math.Max(completions, MinPoolThreads));
        PortProbe.EnsureBindable(options.Api.ToEndPoint(), "--port");
        PortProbe.EnsureBindable(options.Cluster.ToEndPoint(), "--cluster-port");
        ApiKeys? keys = LoadApiKeys(options, logger);
        using var certificates = new CertificateSlot(LoadCertificates(options, logger));
        var refusals = new RepeatFilter(TimeProvider.System, TimeSpan.FromMinutes(1));
        void Refused(string direction, string reason)
        {
            if (refusals.Pass($"{direction} {reason}", out int held))
            {
                NodeLog.PeerRefused(logger, direction, reason, held == 0 ? "" : $" (and {held} times more in the last minute)");
            }
        }

        OptionalTls? Tls(ClusterTrust? trust) => trust is null ? null : new OptionalTls(trust, (from, reason) => Refused($"on the API port from {(from as System.Net.IPEndPoint)?.Address}", reason));
        PeerClient Peers(ClusterTrust? trust, TimeSpan? connectTimeout = null) => new(options.Api.Ip, trust, (called, reason) => Refused($"to node {called}", reason), connectTimeout);

        bool member = DataDirectory.HasMembership(options.DataDirectory);
        if (DataDirectory.ReadRemoved(options.DataDirectory) is { } removed)
        {
            throw new StartupException($"--data {options.DataDirectory}: {removed}");
        }

        if (options.BootConfig is { IsOpen: true } openConfig)
        {
            // Every start, members too: an open cluster admits any board that asks.
            NodeLog.OpenJoinToken(logger, openConfig.ClusterName);
        }

        // Locked before anything is written to it, the bootstrap vote included.
        using DataDirectory data = DataDirectory.Open(options.DataDirectory);
        string? authorityDirectory = null;
        if (certificates.Current is null && LoadClusterAuthority(data, options) is { } own)
        {
            certificates.Current = own;
            authorityDirectory = data.CertificatesDirectory;
        }

        string? token = ReadJoinToken(options, data);
        ClusterSecret? secret = token is null ? null : ClusterSecret.FromToken(token, options.BootConfig?.ClusterName ?? BootConfig.DefaultClusterName, data.JoinKeyFile);
        ClusterTrust? trust = certificates.Current?.Trust;
        OptionalTls? tls = Tls(trust);

        // Until the serving endpoints take the port, /health says what the node waits for (503).
        AuthHealth auth = NodeContext.DescribeAuth(options, keys, trust);
        Guid uuid = NodeIdentityStore.PeekUuid(data.IdentityFile);
        await using var startupServer = new StartupServer(options.Api.ToEndPoint(), () => StartingReport(uuid, auth), loggerFactory, tls);

        // Connected on first use and again after avahi restarts; a member never waits for it to start.
        using IPeerDiscovery? discovery = options.Discover ? new ReconnectingPeerDiscovery(token => ConnectDiscoveryAsync(logger, token)) : null;
        DiscoveryLoop? discoveryLoop = discovery is null ? null : new DiscoveryLoop(discovery, options.NodeId, options.BootConfig!, secret!, TimeProvider.System, DiscoveryLoop.DefaultRoundInterval);

        // One deadline for the whole join, from the first ping to being a member.
        using var joinDeadline = CancellationTokenSource.CreateLinkedTokenSource(shutdown.Token);
        using PeerClient startingPeers = Peers(trust);
        using ApplyTrace? applyTrace = ApplyTrace.FromEnvironment(); // test harnesses only (docs/reliability.md)
        var probe = new IncarnationProbe((nodeId, token) => startingPeers.PingAsync(nodeId, token, (options.NodeId, uuid)));
        try
        {
            await startupServer.StartAsync(shutdown.Token).ConfigureAwait(false);
            if (!member && discoveryLoop is not null)
            {
                options = await DiscoverAsync(discoveryLoop, logger, systemd, shutdown.Token).ConfigureAwait(false);
            }

            if (member && !options.Bootstrap && options.Peers.Count > 0 && await BelongsElsewhereAsync(probe, systemd, logger, shutdown.Token).ConfigureAwait(false) is { } elsewhere)
            {
                // Restored from a backup of an earlier incarnation, or across a split: join the cluster --peers names anew.
                string aside = data.Supersede(data.RaftDirectory);
                NodeLog.JoiningAnew(logger, elsewhere.Peer, elsewhere.Detail, aside);
                member = false;
            }

            if (!member && !options.Bootstrap && options.Peers.Count == 0)
            {
                throw new StartupException($"--data {options.DataDirectory} holds no cluster state: give --bootstrap to start a new cluster or --peers to join one");
            }

            joinDeadline.CancelAfter(options.JoinTimeout);
            if (!member && !options.Bootstrap)
            {
                _hardware.SetStatus(NodeStatus.Joining);
                Say(systemd, "joining", $"joining through {string.Join(", ", options.Peers)}");
                // The unit's TimeoutStartSec (5 min on the image) must not end a join its own deadline allows.
                systemd.ExtendStartTimeout(options.JoinTimeout + TimeSpan.FromMinutes(1));

                // Before writing anything: a node that cannot reach any peer has nothing to join.
                (NodeAddress Peer, PingResponse Answer) reachable;
                try
                {
                    reachable = await startingPeers.FindReachablePeerAsync(options.Peers, options.JoinTimeout, joinDeadline.Token, shutdown.Token).ConfigureAwait(false);
                }
                catch (PeersUnreachableException e)
                {
                    throw new StartupException(e.Message);
                }

                if (certificates.Current is null && await EnrolAsync(reachable.Peer, reachable.Answer, data, uuid, token, secret, logger, joinDeadline.Token, shutdown.Token).ConfigureAwait(false) is { } enrolled)
                {
                    secret = enrolled;
                    certificates.Current = LoadClusterAuthority(data, options);
                    authorityDirectory = data.CertificatesDirectory;
                }
            }
            else if (!member && options.Bootstrap && certificates.Current is null)
            {
                // A new cluster gets its own CA; a --bootstrap without a token makes one for joiners to prove.
                ClusterAuthority.Create(data.CertificatesDirectory, options.Api.Ip);
                if (options.BootConfig is null)
                {
                    if (token is null)
                    {
                        token = ClusterSecret.GenerateToken();
                        secret = ClusterSecret.FromToken(token, BootConfig.DefaultClusterName, data.JoinKeyFile);
                        NodeLog.JoinTokenMade(logger, Path.Combine(data.CertificatesDirectory, ClusterAuthority.TokenFile));
                    }

                    ClusterAuthority.WriteToken(data.CertificatesDirectory, token);
                }

                certificates.Current = LoadClusterAuthority(data, options);
                authorityDirectory = data.CertificatesDirectory;
            }

            string firstAdminKey = FirstAdminKey.PathIn(options.DataDirectory);
            if (!member && options.Bootstrap && options.BootConfig is not null && keys is null && !File.Exists(firstAdminKey))
            {
                // A cluster formed from a boot partition (the image) is closed from its first request on.
                FirstAdminKey.Make(firstAdminKey);
            }
        }
        catch (Exception) when (!member)
        {
            data.Abandon();
            throw;
        }

        trust = certificates.Current?.Trust;
        if (trust is null)
        {
            NodeLog.PeerTlsOff(logger, options.CertificatesDirectory, options.Cluster.ToString());
        }
        else if (authorityDirectory is not null)
        {
            NodeLog.ClusterAuthorityInUse(logger, trust.Authority.Subject, authorityDirectory);
        }

        RaftTimings timings = await RaftTimingsAsync(trust, logger, shutdown.Token).ConfigureAwait(false);

        // Enrolled or bootstrapped just now: the serving endpoints and calls to peers use the new certificates.
        tls = Tls(trust);
        using PeerClient peerClient = ReferenceEquals(trust, startingPeers.Trust) && !timings.IsScaled ? startingPeers
            : Peers(trust, timings.PeerConnect(PeerClient.DefaultConnectTimeout));

        Say(systemd, "starting", "opening the blob store and Raft");
        if (!member && options.Bootstrap && Directory.Exists(data.RaftDirectory) && await BootstrapCommittedAsync(data, uuid, shutdown.Token).ConfigureAwait(false))
        {
            // Stopped between the commit that made it a member and the marker: /health had answered 200
            // and clients may have written, so its log is the cluster, not a start to throw away.
            NodeLog.BootstrapFinished(logger, data.RaftDirectory);
            data.MarkMember();
            member = true;
        }

        bool resumingJoin = false;
        if (!member && Directory.Exists(data.RaftDirectory))
        {
            if (options.Bootstrap)
            {
                NodeLog.RemovingInterruptedJoin(logger, data.RaftDirectory);
                Directory.Delete(data.RaftDirectory, recursive: true);
            }
            else
            {
                // A join was cut short: the leader may already count this node as a voter, so its log is kept.
                resumingJoin = true;
                NodeLog.ResumingJoin(logger, data.RaftDirectory);
            }
        }

        var metrics = new NodeMetrics();
        var raftOptions = new RaftNodeOptions(data.RaftDirectory, options.Cluster.ToEndPoint(), ColdStart: !member && options.Bootstrap)
        {
            FsyncDirectory = Interop.Libc.FsyncDirectory,
            WalFlushed = metrics.WalFlushed,
            ApplyTrace = applyTrace,
            Trust = trust,
            ConnectTimeout = timings.Connect,
            LowerElectionTimeout = timings.LowerElection,
            UpperElectionTimeout = timings.UpperElection,
            RequestTimeout = timings.Request,
            TlsRefused = (dialled, reason) => Refused(dialled is null ? "from a Raft peer" : $"to Raft peer {dialled}", reason),
        };
        string? refoundedAside = null;
        if (member && options.Bootstrap && await ShouldRefoundAsync(raftOptions, probe, systemd, logger, shutdown.Token).ConfigureAwait(false))
        {
            // A membership of this node alone: it elects itself, and commits the new incarnation below.
            refoundedAside = data.Supersede(RaftNodeOptions.MembersFile(data.RaftDirectory));
            raftOptions = raftOptions with { ColdStart = true };
        }

        NodeIdentity identity;
        NodeStorage? storage = null;
        RaftNode raft;
        NodeContext? started = null; // the keys internal calls carry are the node's once it runs
        try
        {
            identity = NodeIdentityStore.LoadOrCreate(data.IdentityFile, options.NodeId, options.Cluster.ToString());
            storage = NodeStorage.Open(options, data, identity, logger, metrics);
            var snapshots = new SnapshotFetcher(peerClient, options.NodeId, () => InternalAuth.Bearer(started?.Keys ?? keys, trust), logger);
            raft = await RaftNode.StartAsync(
                raftOptions with { InlineBlobs = storage.Inline, SnapshotFetcher = snapshots, NodeId = options.NodeId },
                loggerFactory,
                shutdown.Token).ConfigureAwait(false);
            data.MakeNamesDurable();
            ReportRaftLog(raft, logger, shutdown.Token);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            storage?.Dispose();
            if (!member && !resumingJoin)
            {
                data.RemoveFreshState();
            }

            throw new StartupException($"--cluster-port: cannot listen on {options.Cluster}: {e.Message}");
        }
        catch (Exception)
        {
            storage?.Dispose();
            if (!member && !resumingJoin)
            {
                data.RemoveFreshState();
            }

            throw;
        }

        _alive = () => !raft.StateMachine.Faulted.IsCompleted;
        var peers = new PeerTable(TimeProvider.System, PeerTable.DefaultReachableWindow);
        var lifecycle = new NodeLifecycle(TimeProvider.System, options.DeadNodeGrace);
        var ring = KeyRing.Started(options.ApiKeysPath, keys, FirstAdminKey.PathIn(options.DataDirectory));
        var node = new NodeContext(options, identity, raft, storage, peers, ring, version, uptime, _hardware, lifecycle)
        {
            Refounding = refoundedAside is not null,
            Secret = secret,
            AuthorityDirectory = authorityDirectory,
            Metrics = metrics,
            Events = _events,
        };
        started = node;
        raft.LeaderChanged += leader => NodeLog.LeaderChanged(logger, node.LeaderNodeId() ?? leader?.ToString() ?? "unknown");
        var proposer = new MetadataProposer(raft, node.NodeId, peerClient, InternalAuth.Bearer(keys, trust), metrics);
        var dataPath = new DataPath(
            node.NodeId,
            new ClusterBlobs(node.NodeId, node.Storage.Writer, node.Storage.Inline, peerClient, () => InternalAuth.Bearer(node.Keys, trust), metrics),
            placeable: id => id == node.NodeId || !peers.IsDownLongerThan(id, options.DeadNodeGrace),
            reachable: id => id == node.NodeId || peers.IsReachable(id),
            commit: (command, token) => proposer.ProposeAsync(command, token),
            commitDeadline: options.OrphanGrace / 2,
            logger);
        metrics.Registry.AddBeforeCollectCallback(() => metrics.SetQueues(dataPath.ReportsPending, lifecycle.Rebalance.Snapshot(node.LeaderNodeId())));
        if (ring.FirstAdmin is { } firstAdmin)
        {
            NodeLog.FirstAdminKeyMade(logger, firstAdmin.Keys[0].AccessKeyId, FirstAdminKey.PathIn(options.DataDirectory));
        }

        if (node.Keys is null)
        {
            NodeLog.AuthenticationOff(logger, options.ApiKeysPath, options.Api.ToString());
            NodeLog.AdminOpen(logger, options.Api.ToString());
        }

        WebApplication app = BuildWebApplication(node, peerClient, proposer, dataPath, tls, loggerFactory, logger);
        try
        {
            // The serving endpoints take the port over from the starting ones.
            await startupServer.DisposeAsync().ConfigureAwait(false);
            try
            {
                await app.StartAsync(shutdown.Token).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new StartupException($"--port: cannot listen on {options.Api}: {e.Message}");
            }

            if (!member)
            {
                if (options.Bootstrap)
                {
                    await BootstrapAsync(node, logger, shutdown.Token).ConfigureAwait(false);
                }
                else
                {
                    await JoinAsync(node, peerClient, logger, joinDeadline.Token, shutdown.Token).ConfigureAwait(false);
                }

                data.MarkMember();
            }
            else if (refoundedAside is not null)
            {
                await RefoundAsync(node, refoundedAside, logger, shutdown.Token).ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            bool added = raft.IsMember;
            await app.DisposeAsync().ConfigureAwait(false);
            await raft.DisposeAsync().ConfigureAwait(false);
            storage.Dispose();
            if (!member && !added)
            {
                data.RemoveFreshState();
            }
            else if (!member && !shutdown.IsCancellationRequested)
            {
                throw new StartupException("the cluster added this node but the join did not finish; start it again with the same --data to complete it");
            }

            throw;
        }

        // Probing starts before the wait for a leader: /health counts who answers, and a node the cluster
        // removed while it was down learns it from the first answer instead of waiting for a leader that never comes.
        Task monitor = new PeerMonitor(node, peerClient, logger).RunAsync(shutdown.Token);
        // The loops that act as a member stop when the node stops or learns it was removed.
        using var asMember = CancellationTokenSource.CreateLinkedTokenSource(shutdown.Token);
        // The LED follows what /health says from the moment /health answers as a member (a restarted
        // member answers while it waits for a leader), so the two never disagree.
        Task led = new LedStatusLoop(node, TimeProvider.System).RunAsync(asMember.Token);
        if (member)
        {
            await Task.WhenAny(WaitForLeaderAsync(raft, systemd, shutdown.Token), lifecycle.Removed).ConfigureAwait(false);
        }

        // Stopped while it waited: no READY=1 after STOPPING; the loops below end at once and the stop path runs.
        if (!shutdown.IsCancellationRequested)
        {
            NodeLog.Serving(logger, options.NodeId, uptime.ElapsedMilliseconds, raft.Role.ToWireName());
            systemd.Ready($"serving on http://{options.NodeId} as a cluster member");
        }

        // A hot board slows its background work (ThermalThrottle): clients keep what cooling is left.
        Func<double> workFactor = () => _hardware.Snapshot().BackgroundWorkFactor;
        Task compactor = storage.CompactInBackgroundAsync(options.CompactionBytesPerSecond, workFactor, logger, shutdown.Token);
        Task collector = new GarbageCollectorLoop(node.NodeId, () => raft.Metadata, raft.ReadBarrierAsync, storage.Writer, options.OrphanGrace, TimeProvider.System, logger)
            .RunAsync(() => raft.IsMember, asMember.Token);
        Task repair = new RepairLoop(node, dataPath, RepairLoop.DefaultInterval, logger) { WorkFactor = workFactor }.RunAsync(asMember.Token);
        Task scrub = new ScrubLoop(node.NodeId, () => raft.Metadata, storage.Store, dataPath.Report, storage.Scrub, options.ScrubBytesPerSecond, options.ScrubInterval, TimeProvider.System, logger) { WorkFactor = workFactor, Applying = blob => storage.Inline.IsPending(new Storage.BlobId(blob)) }.RunAsync(asMember.Token);
        Task keySync = new KeySyncLoop(node, node.KeyRing, (command, token) => proposer.ProposeAsync(command, token), TimeProvider.System, logger).RunAsync(asMember.Token);
        Task placement = new PlacementLoop(node.NodeId, raft, peers, lifecycle, dataPath, options.RebalanceBytesPerSecond, TimeProvider.System, logger) { WorkFactor = workFactor }.RunAsync(asMember.Token);
        // As a member the node keeps advertising itself, so a board added later finds the cluster.
        Task advertiser = discoveryLoop?.AdvertiseMemberAsync(DiscoveryLoop.DefaultMemberInterval, message => NodeLog.MdnsWarning(logger, message), asMember.Token) ?? Task.CompletedTask;
#if O3STORAGE_NEXT_LEVEL_TEST
        _ = NextLevelTestNote.RunAsync(node, logger, asMember.Token);
#endif
        Task stopped = Task.Delay(Timeout.Infinite, shutdown.Token);
        Task first = await Task.WhenAny(stopped, raft.StateMachine.Faulted, lifecycle.Removed).ConfigureAwait(false);
        if (first == lifecycle.Removed)
        {
            // Removed: never vote or serve again; /health and every call say so until the node is stopped.
            string reason = await lifecycle.Removed.ConfigureAwait(false);
            NodeLog.RemovedFromCluster(logger, reason);
            data.MarkRemoved(reason);
            systemd.Status("removed from the cluster; wipe --data to join again");
            await asMember.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(collector, repair, scrub, placement, keySync, led, advertiser).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            // After the LED loop has stopped, so its last tick cannot paint over the fault.
            _hardware.SetStatus(NodeStatus.Fault);
            await raft.LeaveAsync(CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            first = await Task.WhenAny(stopped, raft.StateMachine.Faulted).ConfigureAwait(false);
        }

        bool faulted = first == raft.StateMachine.Faulted;
        if (faulted)
        {
            _hardware.SetStatus(NodeStatus.Fault);
            NodeLog.ApplyFailed(logger, raft.StateMachine.Faulted.Exception?.InnerException ?? new InvalidOperationException("apply failed"));
        }

        NodeLog.Stopping(logger, faulted ? "metadata apply failed" : stopReason());
        systemd.Stopping(faulted ? "stopping: metadata apply failed" : "stopping");
        await shutdown.CancelAsync().ConfigureAwait(false);
        var stopping = Stopwatch.StartNew();
        try
        {
            await monitor.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException || !faulted)
        {
            // The monitor ends by cancellation; anything else it hit is already logged there.
        }

        // A step in progress finishes (it is bounded) before the store is closed below.
        await compactor.ConfigureAwait(false);
        foreach (Task loop in new[] { collector, repair, scrub, placement, keySync, advertiser, led })
        {
            // Both end by cancellation; each is awaited, so neither touches the store after it closes.
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        try
        {
            // A node whose state machine failed must not lead: it steps down like any stopping leader.
            await raft.StopAsync(s_handoverTimeout, CancellationToken.None).ConfigureAwait(false);
            NodeLog.Stopped(logger, stopping.ElapsedMilliseconds);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            await raft.DisposeAsync().ConfigureAwait(false);
            storage.Dispose();
        }

        return faulted ? 70 : 0;
    }

    /// <summary>Says loudly when the Raft log was found damaged at start, and again when it has been rebuilt from a leader.</summary>
    private static void ReportRaftLog(RaftNode raft, ILogger logger, CancellationToken token)
    {
        RaftLogHealth log = raft.LogHealth;
        if (!log.Checksums)
        {
            NodeLog.RaftLogUnchecked(logger);
        }

        if (log.State == RaftLogHealth.Recovering)
        {
            NodeLog.RaftLogDamaged(logger, log.Detail ?? "checksum mismatch", log.MovedTo ?? "?");
            _ = raft.Recovered.ContinueWith(
                _ => NodeLog.RaftLogRecovered(logger, raft.LogHealth.RecoveredAtIndex ?? 0),
                token,
                TaskContinuationOptions.OnlyOnRanToCompletion,
                TaskScheduler.Default);
        }
    }

    /// <summary>What the node does before it serves: the phase and detail of the starting /health (and systemctl status).</summary>
    private volatile StartupPhase _startup = new("starting", $"starting node {options.NodeId}", TimeSpan.Zero);

    private sealed record StartupPhase(string Phase, string Detail, TimeSpan Since);

    private void Say(SystemdNotifier systemd, string phase, string detail)
    {
        _startup = new StartupPhase(phase, detail, uptime.Elapsed);
        systemd.Status(detail);
    }

    private HealthReport StartingReport(Guid uuid, AuthHealth auth)
    {
        StartupPhase phase = _startup;
        TimeSpan now = uptime.Elapsed;
        var startup = new StartupHealth(phase.Phase, phase.Detail, Math.Round((now - phase.Since).TotalSeconds, 1));
        return HealthEvaluator.Starting(options.NodeId, uuid, version, now, startup, auth, NodeContext.DescribeHardware(_hardware)).Report;
    }

    /// <summary>The name of the file in --data holding this node's bootstrap vote: votes are final, across restarts too.</summary>
    private const string VoteFileName = "discovery-vote";

    private async Task<IPeerDiscovery> ConnectDiscoveryAsync(ILogger logger, CancellationToken token) =>
        await AvahiPeerDiscovery.StartAsync(null, (ushort)options.Api.Port, version, message => NodeLog.MdnsWarning(logger, message), token).ConfigureAwait(false);

    /// <summary>Waits on the LAN until this node should bootstrap or join; returns the options that say which.</summary>
    private async Task<NodeOptions> DiscoverAsync(DiscoveryLoop loop, ILogger logger, SystemdNotifier systemd, CancellationToken token)
    {
        BootConfig config = options.BootConfig!;
        string votePath = Path.Combine(options.DataDirectory, VoteFileName);
        string? vote = null;
        if (File.Exists(votePath))
        {
            try
            {
                vote = File.ReadAllText(votePath).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StartupException($"--data {options.DataDirectory}: cannot read the bootstrap vote {votePath}: {e.Message}");
            }

            // A vote is final: one this node cannot read back must not be silently replaced by another.
            if (!NodeIdOrder.TryParse(vote, out _))
            {
                throw new StartupException($"{votePath} holds '{vote}', not a node id; this node voted before and cannot tell for whom: delete the file only if no other board has bootstrapped yet");
            }
        }

        _hardware.SetStatus(NodeStatus.Discovering);
        NodeLog.Discovering(logger, config.ClusterName, config.ExpectedNodes);
        Say(systemd, "discovering", $"discovering cluster '{config.ClusterName}' over mDNS");
        Decision decision = await loop.DecideAsync(
            vote,
            newVote =>
            {
                try
                {
                    Directory.CreateDirectory(options.DataDirectory);
                    AtomicFile.Write(votePath, System.Text.Encoding.UTF8.GetBytes(newVote + "\n"));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new StartupException($"--data {options.DataDirectory}: cannot record the bootstrap vote: {e.Message}");
                }

                NodeLog.DiscoveryVoted(logger, newVote);
            },
            reason =>
            {
                NodeLog.DiscoveryWaiting(logger, reason);
                Say(systemd, "discovering", reason);
            },
            token,
            round: () => systemd.ExtendStartTimeout(TimeSpan.FromSeconds(60))).ConfigureAwait(false);
        switch (decision)
        {
            case Decision.Bootstrap:
                NodeLog.DiscoveryBootstraps(logger, config.ClusterName);
                return options with { Bootstrap = true };
            case Decision.Join join:
                NodeLog.DiscoveryJoins(logger, config.ClusterName, string.Join(", ", join.Members));
                var peers = new List<NodeAddress>();
                foreach (string member in join.Members)
                {
                    if (NodeAddress.TryParse(member, options.Api.Port, out NodeAddress address, out _) && address != options.Api)
                    {
                        peers.Add(address);
                    }
                }

                return options with { Peers = peers };
            default:
                throw new UnreachableException($"discovery ended with {decision}");
        }
    }

    /// <summary>Opens the board named by --board (auto: the device tree's); a profile file with mistakes stops the start.</summary>
    private HardwareMonitor OpenHardware(ILogger logger)
    {
        BoardProfile? profile;
        switch (options.Board)
        {
            case "auto":
                profile = BoardProfiles.Detect(options.HardwareRoot);
                break;
            case "none":
                profile = null;
                break;
            default:
                profile = BoardProfiles.Find(options.Board);
                if (profile is null)
                {
                    if (!File.Exists(options.Board))
                    {
                        throw new StartupException($"--board {options.Board}: no such built-in profile ({string.Join(", ", BoardProfiles.BuiltIn.Select(p => p.Name))}) and no such file");
                    }

                    if (!BoardProfiles.TryLoad(options.Board, out profile, out string error))
                    {
                        throw new StartupException($"--board {error}");
                    }
                }

                break;
        }

        HardwareMonitor hardware = HardwareMonitor.Open(profile, options.HardwareRoot, TimeProvider.System);
        HardwareSnapshot board = hardware.Snapshot();
        NodeLog.Board(logger, board.Board, board.LedDriver, board.TemperatureCelsius is { } celsius ? $"{celsius:0.0} °C from {board.TemperatureSource}" : board.TemperatureSource);
        foreach (string note in hardware.Notes)
        {
            NodeLog.BoardNote(logger, note);
        }

        return hardware;
    }

    /// <summary>This node's certificates, or null (peer TLS off) when the default directory has none; files that do not fit together stop the start.</summary>
    private static NodeCertificates? LoadCertificates(NodeOptions options, ILogger logger)
    {
        NodeCertificates? certificates;
        try
        {
            certificates = NodeCertificates.Load(options.CertificatesDirectory, options.Api.Ip, TimeProvider.System);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"--certs {options.CertificatesDirectory}: {e.Message}");
        }

        if (certificates is null)
        {
            if (options.CertificatesExplicit)
            {
                throw new StartupException($"--certs {options.CertificatesDirectory}: no .pem files there (ca-cert.pem, node-N-cert.pem and node-N-key.pem)");
            }

            return null;
        }

        NodeLog.PeerTlsOn(logger, options.Cluster.ToString(), ClusterTrust.Describe(certificates.Trust.Own), certificates.CertificateFile, certificates.Trust.Authority.Subject);
        foreach (string warning in certificates.Warnings)
        {
            NodeLog.CertificateWarning(logger, warning);
        }

        return certificates;
    }

    /// <summary>The cluster CA this node made or was given (DATA/certs), with its own certificate (issued anew if its address changed); null when there is none.</summary>
    private static NodeCertificates? LoadClusterAuthority(DataDirectory data, NodeOptions options)
    {
        try
        {
            ClusterAuthority.IssueIfMissing(data.CertificatesDirectory, options.Api.Ip);
            return NodeCertificates.Load(data.CertificatesDirectory, options.Api.Ip, TimeProvider.System);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new StartupException($"--data {options.DataDirectory}: the cluster CA in {data.CertificatesDirectory}: {e.Message}");
        }
    }

    /// <summary>
    /// The cluster's join token: o3storage.txt's, else the join token file's (--join-token-file), else the
    /// one this node keeps from its bootstrap or enrolment; null when there is none.
    /// </summary>
    private static string? ReadJoinToken(NodeOptions options, DataDirectory data)
    {
        if (options.BootConfig is { } config)
        {
            return config.JoinToken;
        }

        if (File.Exists(options.JoinTokenFile))
        {
            string token;
            try
            {
                token = File.ReadAllText(options.JoinTokenFile).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StartupException($"--join-token-file {options.JoinTokenFile}: {e.Message}");
            }

            return token.Length >= BootConfig.JoinTokenLengthMin && !token.Any(char.IsWhiteSpace)
                ? token
                : throw new StartupException($"--join-token-file {options.JoinTokenFile}: a join token is one line of at least {BootConfig.JoinTokenLengthMin} characters without spaces (a member keeps its cluster's in DATA/certs/join-token)");
        }

        return options.JoinTokenExplicit
            ? throw new StartupException($"--join-token-file {options.JoinTokenFile} does not exist")
            : ClusterAuthority.ReadToken(data.CertificatesDirectory);
    }

    /// <summary>
    /// Gets the cluster CA from <paramref name="peer"/> when its cluster has one, proving the join token,
    /// and returns the token's secret; null when the cluster has none (a cluster from before them). A
    /// refusal stops the start.
    /// </summary>
    private async Task<ClusterSecret?> EnrolAsync(NodeAddress peer, PingResponse answer, DataDirectory data, Guid uuid, string? joinToken, ClusterSecret? secret, ILogger logger, CancellationToken token, CancellationToken shutdownToken)
    {
        switch (answer.Certificates)
        {
            case null:
                NodeLog.EnrolmentUnavailable(logger, peer.ToString(), "its cluster runs without certificates");
                return null;
            case PingResponse.OperatorCertificates:
                throw new StartupException($"{peer}'s cluster uses certificates its operator made: put ca-cert.pem and this node's certificate (CN={options.Api.Ip}) and key in {options.CertificatesDirectory} (docs/security.md)");
        }

        // No token: the open one, which a cluster formed at first boot from a default card admits (anyone may join it).
        string noToken = $"{peer}'s cluster admits nodes that prove its join token, and this node has none: copy DATA/certs/join-token from a member (e.g. /opt/o3storage/data/certs/join-token on {peer.Ip}) to {options.JoinTokenFile}, or pass --join-token-file; for a cluster formed at first boot, give its o3storage.txt with --boot-config";
        bool open = secret is null || joinToken is null;
        if (open)
        {
            joinToken = BootConfig.OpenJoinToken;
            secret = ClusterSecret.FromToken(joinToken, BootConfig.DefaultClusterName);
        }

        EnrolmentClient.Outcome outcome;
        try
        {
            outcome = await EnrolmentClient.UntilAnsweredAsync(
                attempt => EnrolmentClient.EnrollAsync(options.Api.Ip, peer.ToString(), options.NodeId, uuid, secret!, attempt),
                reason => NodeLog.JoinAttemptFailed(logger, peer.ToString(), $"enrolment: {reason}"),
                TimeProvider.System, token).ConfigureAwait(false);
        }
        catch (EnrolmentClient.UnreachableException e)
        {
            // Stopped while retrying: a stop, as anywhere else in the start, not a failed enrolment.
            shutdownToken.ThrowIfCancellationRequested();
            throw new StartupException($"enrolment with {peer} failed {e.Attempts} times within the join deadline ({options.JoinTimeout.TotalSeconds:0} s, --join-timeout): {e.LastFailure}");
        }

        switch (outcome)
        {
            case EnrolmentClient.Outcome.Enrolled enrolled:
                try
                {
                    ClusterAuthority.Adopt(data.CertificatesDirectory, enrolled.Authority.Certificate, enrolled.Authority.Key, options.Api.Ip);
                }
                catch (InvalidDataException e)
                {
                    throw new StartupException($"enrolment with {peer}: {e.Message}");
                }

                if (options.BootConfig is null)
                {
                    ClusterAuthority.WriteToken(data.CertificatesDirectory, joinToken!);
                }

                return secret;
            case EnrolmentClient.Outcome.NoAuthority none:
                NodeLog.EnrolmentUnavailable(logger, peer.ToString(), none.Reason);
                return null;
            default:
                throw new StartupException(open ? noToken : $"enrolment with {peer} refused: {((EnrolmentClient.Outcome.Refused)outcome).Reason}");
        }
    }

    /// <summary>
    /// The Raft timeouts for how long a TLS handshake takes on this board (the defaults without TLS):
    /// under emulation, or on a much slower board, the usual ones would not let a connection finish.
    /// </summary>
    private static async Task<RaftTimings> RaftTimingsAsync(ClusterTrust? trust, ILogger logger, CancellationToken token)
    {
        if (trust is null)
        {
            return RaftTimings.Default;
        }

        TimeSpan handshake;
        try
        {
            handshake = await TlsHandshakeProbe.MeasureAsync(trust, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or System.Net.Sockets.SocketException
            || (e is OperationCanceledException && !token.IsCancellationRequested))
        {
            NodeLog.HandshakeProbeFailed(logger, e.Message);
            return RaftTimings.Default;
        }

        RaftTimings timings = RaftTimings.For(handshake);
        if (timings.IsScaled)
        {
            NodeLog.SlowHandshake(logger, (long)handshake.TotalMilliseconds, (long)timings.Connect.TotalMilliseconds, (long)timings.LowerElection.TotalMilliseconds, (long)timings.UpperElection.TotalMilliseconds);
        }

        return timings;
    }

    /// <summary>The key file, or null (authentication off) when the default path has none; a refused file stops the start.</summary>
    private static ApiKeys? LoadApiKeys(NodeOptions options, ILogger logger)
    {
        if (!File.Exists(options.ApiKeysPath) && !options.ApiKeysExplicit)
        {
            return null; // the cluster's keys may turn authentication on: said once they are known
        }

        if (!File.Exists(options.ApiKeysPath))
        {
            throw new StartupException($"--api-keys {options.ApiKeysPath} does not exist");
        }

        ApiKeys keys = ApiKeys.TryLoad(options.ApiKeysPath, out string? error) ?? throw new StartupException(error!);
        NodeLog.AuthenticationOn(logger, keys.Keys.Count, options.ApiKeysPath);
        return keys;
    }

    /// <summary>
    /// A restarted member tells systemd it is ready once its cluster has a leader (a lone node elects
    /// itself within an election timeout), so `systemctl start` returns when reads and writes work, as
    /// the guide's rolling update expects. Without a quorum it gives up waiting after
    /// <see cref="s_readyLeaderWait"/> and serves degraded; /health says why.
    /// </summary>
    private static async Task WaitForLeaderAsync(RaftNode raft, SystemdNotifier systemd, CancellationToken token)
    {
        systemd.Status("serving; waiting for the cluster to have a leader");
        try
        {
            await raft.WaitForLeaderAsync(s_readyLeaderWait, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // No quorum yet: serve what can be served; the peers may come back later. (Stopping
            // already: the caller sees the cancellation and shuts down as usual.)
        }
    }

    private async Task BootstrapAsync(NodeContext node, ILogger logger, CancellationToken token)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
        deadline.CancelAfter(s_bootstrapTimeout);
        try
        {
            await node.Raft.WaitForLeaderAsync(s_bootstrapTimeout, deadline.Token).ConfigureAwait(false);
            if (node.Raft.Metadata.Settings is null)
            {
                await node.Raft.ReplicateAsync(new InitializeCluster(options.Settings, Guid.NewGuid()), deadline.Token).ConfigureAwait(false);
            }

            await node.Raft.AddMemberAsync(node.NodeId, node.Raft.ClusterEndPoint, node.Identity.Uuid, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException && !token.IsCancellationRequested)
        {
            throw new StartupException($"bootstrap did not complete within {s_bootstrapTimeout.TotalSeconds:0} s: this node never became leader of its new cluster");
        }
        catch (Exception e) when (e is DotNext.Net.Cluster.Consensus.Raft.NotLeaderException or CommitOutcomeUnknownException)
        {
            // Only another Raft member with a newer term can depose a fresh single-member cluster.
            throw new StartupException($"bootstrap lost leadership: another node is sending Raft traffic to {node.Raft.ClusterEndPoint}; is a member of an old cluster still running against this address?");
        }

        NodeLog.Bootstrapped(logger, options.Settings.ClusterId);
    }

    /// <summary>Whether the Raft log left by a --bootstrap already holds a cluster with this node (by uuid) as its member.</summary>
    private async Task<bool> BootstrapCommittedAsync(DataDirectory data, Guid uuid, CancellationToken token)
    {
        var raftOptions = new RaftNodeOptions(data.RaftDirectory, options.Cluster.ToEndPoint(), ColdStart: false) { FsyncDirectory = Interop.Libc.FsyncDirectory };
        MetadataState? state = await RaftNode.ReadCommittedAsync(raftOptions, token).ConfigureAwait(false);
        return state?.Settings is not null && uuid != Guid.Empty
            && state.Members.TryGetValue(options.NodeId, out MemberRecord? record) && record.Uuid == uuid;
    }

    /// <summary>For a member started with --peers: the peer that no longer knows it, and why (<see cref="IncarnationProbe"/>); null to resume.</summary>
    private Task<(string Peer, string Detail)?> BelongsElsewhereAsync(IncarnationProbe probe, SystemdNotifier systemd, ILogger logger, CancellationToken token)
    {
        Say(systemd, "starting", $"asking {string.Join(", ", options.Peers)} whether this node is a member of their cluster");
        return probe.BelongsElsewhereAsync(options.Peers, options.NodeId, options.JoinTimeout, (peer, error) => NodeLog.JoinAttemptFailed(logger, peer, error), token);
    }

    /// <summary>Whether this --bootstrap on existing state starts a new cluster from it (<see cref="IncarnationProbe"/>); says which in the log.</summary>
    private async Task<bool> ShouldRefoundAsync(RaftNodeOptions raftOptions, IncarnationProbe probe, SystemdNotifier systemd, ILogger logger, CancellationToken token)
    {
        MetadataState? state = await RaftNode.ReadCommittedAsync(raftOptions, token).ConfigureAwait(false);
        if (state?.Settings is not { } settings)
        {
            NodeLog.BootstrapIgnored(logger, "?", "its log cannot be read before Raft starts (see the log check below)");
            return false;
        }

        Say(systemd, "starting", $"--bootstrap on existing state: asking the other members whether cluster {settings.ClusterId} runs (up to {IncarnationProbe.RefoundProbe.TotalSeconds:0} s)");
        RefoundVerdict verdict = await probe.ShouldRefoundAsync(state, options.NodeId, token).ConfigureAwait(false);
        if (!verdict.Refound)
        {
            NodeLog.BootstrapIgnored(logger, settings.ClusterId, verdict.Detail);
            return false;
        }

        NodeLog.Refounding(logger, settings.ClusterId, state.IncarnationId, Math.Round(verdict.Took.TotalSeconds, 1), verdict.Detail, state.Buckets.Values.Sum(b => (long)b.Objects.Count), state.Buckets.Count, state.Snapshots.Count, options.NodeId);
        return true;
    }

    /// <summary>Commits the new incarnation from this node, now the only member, and its own member record.</summary>
    private async Task RefoundAsync(NodeContext node, string aside, ILogger logger, CancellationToken token)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
        deadline.CancelAfter(s_bootstrapTimeout);
        Guid incarnation = Guid.NewGuid();
        try
        {
            await node.Raft.WaitForLeaderAsync(s_bootstrapTimeout, deadline.Token).ConfigureAwait(false);
            await node.Raft.ReplicateAsync(new RefoundCluster(incarnation, node.NodeId, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), deadline.Token).ConfigureAwait(false);
            await node.Raft.AddMemberAsync(node.NodeId, node.Raft.ClusterEndPoint, node.Identity.Uuid, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException && !token.IsCancellationRequested)
        {
            throw new StartupException($"starting a new cluster from existing state did not complete within {s_bootstrapTimeout.TotalSeconds:0} s; start the node again with --bootstrap to retry");
        }

        node.Refounding = false;
        NodeLog.Refounded(logger, node.Raft.Metadata.Settings?.ClusterId ?? "?", incarnation, aside);
    }

    private async Task JoinAsync(NodeContext node, PeerClient client, ILogger logger, CancellationToken deadline, CancellationToken token)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            while (true)
            {
                foreach (var peer in options.Peers)
                {
                    string peerId = peer.ToString();
                    try
                    {
                        var (response, status, error) = await client.JoinAsync(peerId, node.JoinRequest, deadline).ConfigureAwait(false);
                        if (response is null && status == System.Net.HttpStatusCode.Forbidden)
                        {
                            // A refused join token is final: retrying cannot change the answer.
                            throw new StartupException($"the cluster refused this node: {error}");
                        }

                        if (response is null)
                        {
                            errors[peerId] = error ?? "refused";
                            NodeLog.JoinAttemptFailed(logger, peerId, errors[peerId]);
                            continue;
                        }

                        // Added: wait until the leader's configuration reached us and we know the leader.
                        while (!node.Raft.IsMember || node.Raft.LeaderEndPoint is null)
                        {
                            await Task.Delay(5, deadline).ConfigureAwait(false);
                        }

                        NodeLog.Joined(logger, peerId, response.Leader);
                        return;
                    }
                    catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException || (e is OperationCanceledException && !deadline.IsCancellationRequested))
                    {
                        errors[peerId] = PeerClient.Describe(e);
                        NodeLog.JoinAttemptFailed(logger, peerId, errors[peerId]);
                    }
                }

                await Task.Delay(500, deadline).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            string detail = errors.Count == 0 ? "no answer" : string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value}"));
            throw new StartupException($"could not join the cluster within {options.JoinTimeout.TotalSeconds:0.#} s ({detail})");
        }
    }

    private WebApplication BuildWebApplication(NodeContext node, PeerClient peerClient, MetadataProposer proposer, DataPath data, OptionalTls? tls, ILoggerFactory loggerFactory, ILogger logger)
    {
        WebApplication app = ApiWebApplication.Build(options.Api.ToEndPoint(), loggerFactory, tls, limits =>
        {
            limits.MaxRequestBodySize = null; // PutObject bounds its own body (5 GiB), streamed in chunks
            limits.MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(bytesPerSecond: 1024, gracePeriod: TimeSpan.FromSeconds(30));
        });
        new NodeEndpoints(node, peerClient, proposer, TimeProvider.System, logger).Map(app);
        new EnrollEndpoints(node, new EnrollChallenges(TimeProvider.System), logger).Map(app);
        new AdminEndpoints(node, node.Lifecycle, proposer, peerClient, data, TimeProvider.System, logger).Map(app);
        new BlobEndpoints(node, node.Storage.Writer).Map(app);
        new UiEndpoints(node, peerClient, TimeProvider.System).Map(app);
        new S3Endpoints(node, proposer, data, TimeProvider.System).Map(app);
        return app;
    }

    private static ILoggerFactory CreateLoggerFactory(string level, string? logFilePath, RecentEvents events)
    {
        // Opened before the factory, so an unwritable path is a one-line startup error.
        LogFile? file = logFilePath is null ? null : LogFile.Open(logFilePath);

        // Under systemd (stdout is the journal) each line carries its syslog priority, so
        // `journalctl -p err` finds errors; journald adds its own timestamps.
        bool journal = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM"));
        LogLevel minimum = level switch
        {
            "debug" => LogLevel.Debug,
            "warning" => LogLevel.Warning,
            "error" => LogLevel.Error,
            _ => LogLevel.Information,
        };
        return LoggerFactory.Create(logging =>
        {
            logging.SetMinimumLevel(minimum);
            // DotNext warns with a stack trace on every failed heartbeat to a down member (10 per second);
            // /health already says who is unreachable, so its log is kept for --log-level debug.
            logging.AddFilter("DotNext", minimum == LogLevel.Debug ? LogLevel.Debug : LogLevel.Error);
            logging.AddFilter("Microsoft", LogLevel.Warning);
            if (journal)
            {
                logging.AddSystemdConsole(console => console.IncludeScopes = false);
            }
            else
            {
                logging.AddSimpleConsole(console =>
                {
                    console.SingleLine = true;
                    console.TimestampFormat = "HH:mm:ss.fff ";
                    console.UseUtcTimestamp = true;
                });
            }

            if (file is not null)
            {
                logging.AddProvider(new LogFileProvider(file, TimeProvider.System));
            }

            logging.AddProvider(events);
        });
    }

    /// <summary>This node's certificates, owned: the operator's from the start, or the cluster CA's once made or given.</summary>
    private sealed class CertificateSlot(NodeCertificates? current) : IDisposable
    {
        public NodeCertificates? Current
        {
            get => current;
            set
            {
                current?.Dispose();
                current = value;
            }
        }

        public void Dispose() => current?.Dispose();
    }
}
