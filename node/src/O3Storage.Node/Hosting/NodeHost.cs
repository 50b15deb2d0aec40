// Owns: the life of one node process: checks that can fail before anything is written (ports,
// peers), the data directory, Raft, the HTTP server, bootstrap or join, and the graceful stop.
// Faults: operating errors before serving are StartupExceptions (one line, exit 1); a fresh node that
// fails to bootstrap or join removes what it wrote, so a retry starts clean.
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using O3Storage.Cluster.Membership;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;
using O3Storage.Node.Api;
using O3Storage.Node.CommandLine;

namespace O3Storage.Node.Hosting;

internal sealed class NodeHost(NodeOptions options, string version, Stopwatch uptime)
{
    private static readonly TimeSpan s_handoverTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan s_bootstrapTimeout = TimeSpan.FromSeconds(10);

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

        using ILoggerFactory loggerFactory = CreateLoggerFactory(options.LogLevel);
        ILogger logger = loggerFactory.CreateLogger("o3storage");
        NodeLog.Starting(logger, version, options.NodeId, options.Cluster.ToString(), options.DataDirectory);

        PortProbe.EnsureBindable(options.Api.ToEndPoint(), "--port");
        PortProbe.EnsureBindable(options.Cluster.ToEndPoint(), "--cluster-port");

        bool member = DataDirectory.HasMembership(options.DataDirectory);
        if (!member && !options.Bootstrap && options.Peers.Count == 0)
        {
            throw new StartupException($"--data {options.DataDirectory} holds no cluster state: give --bootstrap to start a new cluster or --peers to join one");
        }

        using var peerClient = new PeerClient();
        if (!member && !options.Bootstrap)
        {
            // Before writing anything: a node that cannot reach any peer has nothing to join.
            await peerClient.FindReachablePeerAsync(options.Peers, options.JoinTimeout, shutdown.Token).ConfigureAwait(false);
        }

        using DataDirectory data = DataDirectory.Open(options.DataDirectory);
        if (!member && Directory.Exists(data.RaftDirectory))
        {
            NodeLog.RemovingInterruptedJoin(logger, data.RaftDirectory);
            Directory.Delete(data.RaftDirectory, recursive: true);
        }

        NodeIdentity identity;
        RaftNode raft;
        try
        {
            identity = NodeIdentityStore.LoadOrCreate(data.IdentityFile, options.NodeId, options.Cluster.ToString());
            raft = await RaftNode.StartAsync(
                new RaftNodeOptions(data.RaftDirectory, options.Cluster.ToEndPoint(), ColdStart: !member && options.Bootstrap),
                loggerFactory,
                shutdown.Token).ConfigureAwait(false);
        }
        catch (Exception) when (!member)
        {
            data.RemoveFreshState();
            throw;
        }

        var peers = new PeerTable(TimeProvider.System, PeerTable.DefaultReachableWindow);
        var node = new NodeContext(options, identity, raft, peers, version, uptime);
        raft.LeaderChanged += leader => NodeLog.LeaderChanged(logger, node.LeaderNodeId() ?? leader?.ToString() ?? "unknown");
        WebApplication app = BuildWebApplication(node, peerClient, loggerFactory, logger);
        Task? monitor = null;
        try
        {
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
                    await JoinAsync(node, peerClient, logger, shutdown.Token).ConfigureAwait(false);
                }

                data.MarkMember();
            }
            else if (options.Bootstrap)
            {
                NodeLog.BootstrapIgnored(logger);
            }
        }
        catch (Exception) when (!member)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            await raft.DisposeAsync().ConfigureAwait(false);
            data.RemoveFreshState();
            if (shutdown.IsCancellationRequested)
            {
                throw new StartupException($"stopped by {stopReason} before this node had joined a cluster; nothing was kept");
            }

            throw;
        }

        NodeLog.Serving(logger, options.NodeId, uptime.ElapsedMilliseconds, raft.Role.ToWireName());
        monitor = new PeerMonitor(node, peerClient, logger).RunAsync(shutdown.Token);
        try
        {
            await Task.Delay(Timeout.Infinite, shutdown.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        NodeLog.Stopping(logger, stopReason);
        var stopping = Stopwatch.StartNew();
        try
        {
            await monitor.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await raft.StopAsync(s_handoverTimeout, CancellationToken.None).ConfigureAwait(false);
        NodeLog.Stopped(logger, stopping.ElapsedMilliseconds);
        await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        await raft.DisposeAsync().ConfigureAwait(false);
        return 0;
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
        catch (DotNext.Net.Cluster.Consensus.Raft.NotLeaderException)
        {
            // Only another Raft member with a newer term can depose a fresh single-member cluster.
            throw new StartupException($"bootstrap lost leadership: another node is sending Raft traffic to {node.Raft.ClusterEndPoint}; is a member of an old cluster still running against this address?");
        }

        NodeLog.Bootstrapped(logger, options.Settings.ClusterId);
    }

    private async Task JoinAsync(NodeContext node, PeerClient client, ILogger logger, CancellationToken token)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
        deadline.CancelAfter(options.JoinTimeout);
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
                        var (response, _, error) = await client.JoinAsync(peerId, node.JoinRequest, deadline.Token).ConfigureAwait(false);
                        if (response is null)
                        {
                            errors[peerId] = error ?? "refused";
                            NodeLog.JoinAttemptFailed(logger, peerId, errors[peerId]);
                            continue;
                        }

                        // Added: wait until the leader's configuration reached us and we know the leader.
                        while (!node.Raft.IsMember || node.Raft.LeaderEndPoint is null)
                        {
                            await Task.Delay(5, deadline.Token).ConfigureAwait(false);
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

                await Task.Delay(500, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            string detail = errors.Count == 0 ? "no answer" : string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value}"));
            throw new StartupException($"could not join the cluster within {options.JoinTimeout.TotalSeconds:0.#} s ({detail})");
        }
    }

    private WebApplication BuildWebApplication(NodeContext node, PeerClient peerClient, ILoggerFactory loggerFactory, ILogger logger)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton<IHostLifetime, NullHostLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(options.Api.ToEndPoint());
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
        });

        WebApplication app = builder.Build();
        new NodeEndpoints(node, peerClient, TimeProvider.System, logger).Map(app);
        return app;
    }

    private static ILoggerFactory CreateLoggerFactory(string level)
    {
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
            logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss.fff ";
                console.UseUtcTimestamp = true;
            });
        });
    }
}
