namespace O3Storage.Firmware.Status;

/// <summary>What the node shows on its status LED, one value at a time (see <see cref="NodeStatusRule"/>).</summary>
public enum NodeStatus
{
    /// <summary>The process started and has not yet looked for its cluster.</summary>
    Booting,

    /// <summary>Looking for peers on the LAN (no cluster state yet).</summary>
    Discovering,

    /// <summary>Joining (or bootstrapping) a cluster; not serving yet.</summary>
    Joining,

    /// <summary>Serving as a follower of a cluster with quorum and fully replicated data.</summary>
    FollowerHealthy,

    /// <summary>Serving as the leader of a cluster with quorum and fully replicated data.</summary>
    Leader,

    /// <summary>Serving, but the cluster has no quorum or holds under-replicated data.</summary>
    Degraded,

    /// <summary>An operator put the node into maintenance.</summary>
    Maintenance,

    /// <summary>The node stopped itself (corruption, a failed apply, a fatal preflight check).</summary>
    Fault,
}
