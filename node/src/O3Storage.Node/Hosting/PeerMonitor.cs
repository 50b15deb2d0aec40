// Owns: the periodic probe of every other member's API port, which feeds the PeerTable behind
// /health's active_nodes, and the repair of this node's own member record if a join was cut short.
// Bounded: one probe per member per interval, each with its own timeout; stops with its token.
using Microsoft.Extensions.Logging;
using O3Storage.Cluster.Membership;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;
using O3Storage.Node.Api;
using O3Storage.Node.Diagnostics;
using O3Storage.Node.Transport;

namespace O3Storage.Node.Hosting;

internal sealed class PeerMonitor(NodeContext node, PeerClient client, ILogger logger)
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan s_recordRepairInterval = TimeSpan.FromSeconds(2);

    public async Task RunAsync(CancellationToken token)
    {
        DateTimeOffset lastRepair = DateTimeOffset.MinValue;
        using var timer = new PeriodicTimer(ProbeInterval);
        do
        {
            try
            {
                MetadataState metadata = node.Raft.Metadata;
                if (metadata.Removed.TryGetValue(node.NodeId, out RemovedMember? removed) && removed.Uuid == node.Identity.Uuid && !metadata.Members.ContainsKey(node.NodeId))
                {
                    node.Lifecycle.MarkRemoved(RemovedMessage(metadata, DateTimeOffset.FromUnixTimeMilliseconds(removed.RemovedUnixMs)));
                }

                var memberIds = new HashSet<string>(metadata.Members.Keys, StringComparer.Ordinal);
                node.Peers.Retain(memberIds);
                await Task.WhenAll(memberIds.Where(id => id != node.NodeId).Select(id => ProbeAsync(id, token))).ConfigureAwait(false);

                if (node.Raft.IsLeader && node.Peers.LevelToCommit(node.Raft.Metadata, node.NodeId, MetadataCodec.Level) is { } level)
                {
                    // Every member reads it now (etcd's cluster version): commands of that level may be committed from here on.
                    await node.Raft.ReplicateAsync(new SetClusterLevel(level), token).ConfigureAwait(false);
                    NodeLog.ClusterLevelRaised(logger, level, node.Raft.Metadata.LastAppliedIndex);
                }

                if (node.Raft.IsMember && !node.Lifecycle.IsRemoved && !metadata.Members.ContainsKey(node.NodeId) && DateTimeOffset.UtcNow - lastRepair > s_recordRepairInterval)
                {
                    lastRepair = DateTimeOffset.UtcNow;
                    await RepairOwnRecordAsync(token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                // The loop must outlive any one bad round: without it /health would decay to 503.
                NodeLog.MonitorRoundFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false));
    }

    private async Task ProbeAsync(string nodeId, CancellationToken token)
    {
        try
        {
            PingResponse answer = await client.PingAsync(nodeId, token, (node.NodeId, node.Identity.Uuid)).ConfigureAwait(false);
            if (answer.NodeId == nodeId)
            {
                node.Peers.RecordContact(nodeId, answer.Role, answer.Term, answer.Version, answer.MetadataLevel ?? 1);
            }

            if (answer.CallerRemoved)
            {
                // Removed while it was down: a member says so.
                node.Lifecycle.MarkRemoved(RemovedMessage(node.Raft.Metadata, null));
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
        {
            // Unreachable this round: the PeerTable ages the last contact out by itself.
        }
    }

    /// <summary>What a removed node says in its log, on /health, and when it is started again on the same data.</summary>
    private string RemovedMessage(MetadataState metadata, DateTimeOffset? when)
    {
        string peers = string.Join(",", metadata.Members.Keys.Where(id => id != node.NodeId).Select(id => id.EndsWith($":{node.Options.Api.Port}", StringComparison.Ordinal) ? id[..id.LastIndexOf(':')] : id));
        return $"this node ({node.NodeId}) was removed from cluster {metadata.Settings?.ClusterId ?? "?"}{(when is { } at && at.ToUnixTimeMilliseconds() > 0 ? $" at {at:u}" : string.Empty)}; its data cannot rejoin: "
            + $"wipe --data {node.Options.DataDirectory} and start it with --peers {(peers.Length > 0 ? peers : "MEMBERS")} to join as a new node";
    }

    private async Task RepairOwnRecordAsync(CancellationToken token)
    {
        // Raft added this node but its member record was never committed (the join was cut short).
        try
        {
            if (node.Raft.IsLeader)
            {
                await node.Raft.AddMemberAsync(node.NodeId, node.Raft.ClusterEndPoint, node.Identity.Uuid, token).ConfigureAwait(false);
            }
            else if (node.LeaderNodeId() is { } leader && leader != node.NodeId)
            {
                await client.JoinAsync(leader, node.JoinRequest, token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or MembershipChangeException or CommitOutcomeUnknownException or DotNext.Net.Cluster.Consensus.Raft.NotLeaderException)
        {
            NodeLog.JoinAttemptFailed(logger, "leader", PeerClient.Describe(e));
        }
    }
}
