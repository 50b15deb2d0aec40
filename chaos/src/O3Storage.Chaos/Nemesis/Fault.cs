namespace O3Storage.Chaos.Nemesis;

public enum FaultKind
{
    /// <summary>The nodes split in two groups that cannot reach each other (one of them a majority, or neither with an even count).</summary>
    Partition,

    /// <summary>One node cut off from every other node (clients still reach it).</summary>
    Isolate,

    /// <summary>Two halves that cannot reach each other, and one node in the middle that reaches both.</summary>
    Bridge,

    /// <summary>kill -9 of the nodes, restarted when the fault ends.</summary>
    Kill,

    /// <summary>SIGSTOP of the nodes, SIGCONT when the fault ends (a long GC pause, a swapping board).</summary>
    Pause,

    /// <summary>
    /// The whole cluster loses power: every node killed at once, then every data directory (a powercut-fs)
    /// drops what was not flushed and tears its last unflushed write; all restart when the fault ends.
    /// </summary>
    PowerCut,

    /// <summary>
    /// The guide's "replace a failed node": one node killed, removed through <c>/admin/remove-node</c>, its data
    /// wiped; when the fault ends it joins again with <c>--peers</c> as a new member (a new card in the same board).
    /// </summary>
    Replace,
}

/// <summary>
/// One fault: applied <see cref="StartMs"/> after the workload began, healed <see cref="DurationMs"/> later.
/// <see cref="Nodes"/> are the nodes it acts on (1-based): for a partition, one side; for a bridge, the
/// bridging node first, then one half; for a power cut, every node.
/// </summary>
public sealed record Fault(FaultKind Kind, int StartMs, int DurationMs, IReadOnlyList<int> Nodes)
{
    public int EndMs => StartMs + DurationMs;

    public override string ToString() => $"{StartMs / 1000.0:0.0}s +{DurationMs / 1000.0:0.0}s {Kind.ToString().ToLowerInvariant()} {string.Join(',', Nodes)}";
}
