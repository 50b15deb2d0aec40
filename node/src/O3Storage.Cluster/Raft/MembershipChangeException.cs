namespace O3Storage.Cluster.Raft;

/// <summary>The leader could not commit a membership change (the new member did not catch up, or quorum was lost).</summary>
public sealed class MembershipChangeException(string message) : Exception(message);
