using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;

namespace O3Storage.Cluster.Tests.Raft;

/// <summary>A real single-member DotNext cluster on loopback with its WAL in a temporary directory.</summary>
public sealed class RaftNodeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("o3-raft-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static IPEndPoint FreeLoopbackEndPoint()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return (IPEndPoint)listener.LocalEndpoint;
    }

    [Fact]
    public async Task ColdStart_ThenRestart_StateSurvivesThroughSnapshotAndLog()
    {
        IPEndPoint endPoint = FreeLoopbackEndPoint();
        var settings = new ClusterSettings("restart-test", 2, ConsistencyLevel.Eventual);
        var uuid = Guid.NewGuid();
        int commands = MetadataStateMachine.SnapshotIntervalEntries + 100;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        long appliedBeforeStop;
        await using (RaftNode first = await RaftNode.StartAsync(new RaftNodeOptions(_directory, endPoint, ColdStart: true), NullLoggerFactory.Instance, timeout.Token))
        {
            await first.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
            Assert.Equal(NodeRole.Leader, first.Role);
            await first.ReplicateAsync(new InitializeCluster(settings, Guid.NewGuid()), timeout.Token);
            await first.AddMemberAsync("127.0.0.1:1", endPoint, uuid, timeout.Token);
            for (int i = 0; i < commands; i++)
            {
                await first.ReplicateAsync(new RemoveMember($"gone-{i}:1", 7), timeout.Token);
            }

            appliedBeforeStop = first.Metadata.LastAppliedIndex;
            await first.StopAsync(TimeSpan.FromSeconds(1), timeout.Token);
        }

        Assert.NotEmpty(Directory.GetFiles(RaftNodeOptions.SnapshotDirectory(_directory), "*", SearchOption.AllDirectories));
        Assert.True(File.Exists(RaftNodeOptions.MembersFile(_directory)));

        await using RaftNode second = await RaftNode.StartAsync(new RaftNodeOptions(_directory, endPoint, ColdStart: false), NullLoggerFactory.Instance, timeout.Token);
        await second.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
        await second.ReadBarrierAsync(timeout.Token);

        Assert.True(second.IsMember);
        Assert.Equal(settings, second.Metadata.Settings);
        Assert.Equal(uuid, second.Metadata.Members["127.0.0.1:1"].Uuid);
        Assert.True(second.Metadata.LastAppliedIndex >= appliedBeforeStop, $"applied {second.Metadata.LastAppliedIndex} < {appliedBeforeStop} before restart");
        Assert.Equal([endPoint], second.ConfigurationMembers);
    }
}
