// Owns: turning a node's raw view (Raft role, configuration, metadata, probe results) into /health.
// Pure: no IO and no clock of its own, so every rule below is tested with plain values.
using O3Storage.Cluster.Membership;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;

namespace O3Storage.Cluster.Health;

public static class HealthEvaluator
{
    /// <summary>Status of a node that does not serve yet; always answered with 503.</summary>
    public const string StartingStatus = "starting";

    /// <summary>
    /// The report of a node still starting: no cluster, no store, a 503. Every field of the serving
    /// report is there (zeros, nulls, no members), so the guide's jq lines read a number, not null.
    /// </summary>
    public static (HealthReport Report, int StatusCode) Starting(string nodeId, Guid nodeUuid, string version, TimeSpan uptime, StartupHealth startup, AuthHealth auth, HardwareHealth? hardware)
    {
        var cluster = new ClusterHealth(null, NodeRole.Standby.ToWireName(), null, 0, 0, 0, 0, false, false, null, null, 0, []);
        var report = new HealthReport(StartingStatus, nodeId, nodeUuid, version, Math.Round(uptime.TotalSeconds, 3), cluster, StorageHealth.None, auth, hardware, startup);
        return (report, 503);
    }

    /// <summary>Status of a node the cluster removed; always answered with 503.</summary>
    public const string RemovedStatus = "removed";

    /// <summary>The report of a node the cluster removed: it serves nothing; <paramref name="reason"/> says what happened and how to rejoin.</summary>
    public static (HealthReport Report, int StatusCode) Removed(string nodeId, Guid nodeUuid, string version, TimeSpan uptime, string reason, AuthHealth auth, HardwareHealth? hardware)
    {
        (HealthReport starting, _) = Starting(nodeId, nodeUuid, version, uptime, new StartupHealth(RemovedStatus, reason, 0), auth, hardware);
        return (starting with { Status = RemovedStatus }, 503);
    }

    public static (HealthReport Report, int StatusCode) Evaluate(HealthInputs inputs, PeerTable peers, DateTimeOffset now)
    {
        MetadataState metadata = inputs.Metadata;
        var members = new List<MemberHealth>(inputs.ConfigurationEndPoints.Count);
        foreach (string endPoint in inputs.ConfigurationEndPoints.Order(StringComparer.Ordinal))
        {
            bool self = endPoint == inputs.ClusterEndPoint;
            string id = self ? inputs.NodeId : metadata.FindByClusterEndPoint(endPoint)?.NodeId ?? endPoint;
            bool draining = metadata.Members.TryGetValue(id, out MemberRecord? record) && record.State == MemberState.Draining;
            if (self)
            {
                members.Add(new MemberHealth(id, endPoint, inputs.Role.ToWireName(), true, now, 0, true) { State = draining ? "draining" : "active", Version = inputs.Version, MetadataLevel = MetadataCodec.Level });
                continue;
            }

            PeerContact? contact = peers.Find(id);
            bool reachable = contact is not null && now - contact.LastContact < peers.ReachableWindow;
            string role = reachable ? contact!.Role : "unreachable";
            members.Add(new MemberHealth(id, endPoint, role, reachable, contact?.LastContact, contact is null ? null : (long)(now - contact.LastContact).TotalMilliseconds, false)
            {
                State = draining ? "draining" : reachable ? "active" : "down",
                DownSince = reachable ? null : contact?.LastContact,
                Version = contact?.Version,
                MetadataLevel = contact?.MetadataLevel,
            });
        }

        members.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        int total = members.Count;
        int active = members.Count(m => m.Reachable);
        int quorum = total == 0 ? 0 : (total / 2) + 1;
        string? leader = inputs.LeaderClusterEndPoint is null
            ? null
            : inputs.LeaderClusterEndPoint == inputs.ClusterEndPoint
                ? inputs.NodeId
                : metadata.FindByClusterEndPoint(inputs.LeaderClusterEndPoint)?.NodeId ?? inputs.LeaderClusterEndPoint;
        bool hasQuorum = inputs.Role != NodeRole.Standby && leader is not null && total > 0 && active >= quorum;
        bool serving = hasQuorum;
        // A node rebuilding a damaged log from its peers serves, but the cluster has one voter fewer until it is done.
        string status = !serving ? "unavailable" : active < total || inputs.RaftLog.State == RaftLogHealth.Recovering ? "degraded" : "ok";

        var cluster = new ClusterHealth(
            metadata.Settings?.ClusterId,
            inputs.Role.ToWireName(),
            leader,
            inputs.Term,
            active,
            total,
            quorum,
            hasQuorum,
            WriteEnabled: hasQuorum && metadata.Maintenance is null,
            metadata.Settings?.ReplicationFactor,
            metadata.Settings?.Consistency.ToWireName(),
            metadata.LastAppliedIndex,
            members)
        {
            ClusterUuid = metadata.Settings is null ? null : metadata.IncarnationId,
            MetadataLevel = metadata.ClusterLevel,
            Maintenance = metadata.Maintenance is { } mode ? new MaintenanceHealth(true, mode.Reason, DateTimeOffset.FromUnixTimeMilliseconds(mode.SinceUnixMs)) : MaintenanceHealth.Off,
            RaftLog = inputs.RaftLog,
            RemovedNodes = [.. metadata.Removed.Values.OrderByDescending(r => r.RemovedAtIndex).Select(r => new RemovedHealth(r.NodeId, r.RemovedUnixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.RemovedUnixMs)))],
        };
        StorageHealth storage = inputs.Storage;
        if (!metadata.Snapshots.IsEmpty)
        {
            (long pinnedBytes, long pinnedBlobs) = NamespaceSnapshot.Pinned(metadata, metadata.Snapshots.Values);
            storage = storage with { Snapshots = new SnapshotsHealth(metadata.Snapshots.Count, pinnedBytes, pinnedBlobs) };
        }

        var report = new HealthReport(status, inputs.NodeId, inputs.NodeUuid, inputs.Version, Math.Round(inputs.Uptime.TotalSeconds, 3), cluster, storage, inputs.Auth ?? AuthHealth.Off, inputs.Hardware) { Rebalance = inputs.Rebalance, RebalanceProgress = inputs.RebalanceProgress };
        return (report, serving ? 200 : 503);
    }
}
