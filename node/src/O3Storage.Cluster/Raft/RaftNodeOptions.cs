using System.Net;

namespace O3Storage.Cluster.Raft;

public sealed record RaftNodeOptions(string RaftDirectory, IPEndPoint ClusterEndPoint, bool ColdStart)
{
    /// <summary>
    /// 200–400 ms: quick failover on loopback and a LAN of boards, yet above the heartbeat jitter of a busy
    /// Raspberry Pi (see docs/benchmarks.md for the measured failover).
    /// </summary>
    public TimeSpan LowerElectionTimeout { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan UpperElectionTimeout { get; init; } = TimeSpan.FromMilliseconds(400);

    /// <summary>Above the slowest follower commit we expect on an SD card.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>16 MiB: DotNext's default (one page) stalled lagging followers (shared/notes/dotnext-raft.md).</summary>
    public int WalChunkSizeBytes { get; init; } = 16 * 1024 * 1024;

    public static string WalDirectory(string raftDirectory) => Path.Combine(raftDirectory, "wal");

    public static string SnapshotDirectory(string raftDirectory) => Path.Combine(raftDirectory, "snapshots");

    public static string MembersFile(string raftDirectory) => Path.Combine(raftDirectory, "members.bin");
}
