namespace O3Storage.Cluster.Raft;

/// <summary>
/// This node lost its leadership after it had appended the command to its log and before the command was
/// committed: a later leader may still commit it, or may drop it. Proposing it again could apply it twice
/// (an overwritten version coming back after its blobs were collected), so the caller answers "unknown"
/// (503) instead; a client that retries a PUT or DELETE writes the same thing again, which is safe.
/// </summary>
public sealed class CommitOutcomeUnknownException(string message, Exception inner) : Exception(message, inner);
