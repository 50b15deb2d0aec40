namespace O3Storage.Firmware.Status;

/// <summary>What the node knows about itself, as plain facts; <see cref="NodeStatusRule.Choose"/> turns them into one status.</summary>
/// <param name="Serving">The node is a member of a cluster and serves requests.</param>
/// <param name="Discovering">The node looks for its peers (provisioning).</param>
/// <param name="Joining">The node is joining or bootstrapping a cluster.</param>
/// <param name="Faulted">The node stopped itself after an unrecoverable error.</param>
/// <param name="MaintenanceOn">An operator put the node into maintenance.</param>
/// <param name="HasQuorum">A leader is known and enough members answer to form a quorum.</param>
/// <param name="UnderReplicated">Some data has fewer replicas than the policy wants.</param>
/// <param name="IsLeader">This node is the Raft leader.</param>
public sealed record NodeFacts(
    bool Serving,
    bool Discovering,
    bool Joining,
    bool Faulted,
    bool MaintenanceOn,
    bool HasQuorum,
    bool UnderReplicated,
    bool IsLeader);
