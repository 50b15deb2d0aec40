using System.Net;

namespace O3Storage.Cluster.Raft;

public sealed record RaftNodeOptions(string RaftDirectory, IPEndPoint ClusterEndPoint, bool ColdStart)
{
    /// <summary>
    /// 500–1000 ms (etcd's default is 1000): failover still within about a second, and well above the
    /// stalls of a loaded node. At 200–400 ms a 2-core machine running three nodes under 64 clients (or
    /// re-replicating flat out) missed heartbeats and elected a new leader mid-load, and clients saw 503s
    /// (see docs/benchmarks.md for the measured failover).
    /// </summary>
    public TimeSpan LowerElectionTimeout { get; init; } = RaftTimings.Default.LowerElection;

    public TimeSpan UpperElectionTimeout { get; init; } = RaftTimings.Default.UpperElection;

    /// <summary>Above the slowest follower commit we expect on an SD card.</summary>
    public TimeSpan RequestTimeout { get; init; } = RaftTimings.Default.Request;

    public TimeSpan ConnectTimeout { get; init; } = RaftTimings.Default.Connect;

    /// <summary>16 MiB: DotNext's default (one page) stalled lagging followers (shared/notes/dotnext-raft.md).</summary>
    public int WalChunkSizeBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>fsync(2) of a directory, so file creations and renames in it survive a power cut; null: skipped (tests).</summary>
    public Action<string>? FsyncDirectory { get; init; }

    /// <summary>Told how long each flush of entries taken from the leader took (a metric); null: not measured.</summary>
    public Action<TimeSpan>? WalFlushed { get; init; }

    /// <summary>Records every applied entry (the chaos harness's divergence check); null: none. Owned by the caller.</summary>
    public ApplyTrace? ApplyTrace { get; init; }

    /// <summary>Where applied small objects' contents go (PutInline): the node's blob store; null: nowhere (tests of the log alone).</summary>
    public IInlineBlobSink? InlineBlobs { get; init; }

    /// <summary>Fetches a snapshot a leader sent by reference (<see cref="SnapshotReference"/>) from a member's API; null: none can be read, and this node sends its own snapshots whole.</summary>
    public ISnapshotFetcher? SnapshotFetcher { get; init; }

    /// <summary>This node's id (its API address): the first source the references it sends name.</summary>
    public string? NodeId { get; init; }

    /// <summary>Mutual TLS on the Raft port with this cluster's certificates; null: plain TCP (no certificates configured).</summary>
    public Security.ClusterTrust? Trust { get; init; }

    /// <summary>Told why a Raft peer's certificate was refused: the endpoint this node dialled, or null for a peer that connected.</summary>
    public Action<EndPoint?, string>? TlsRefused { get; init; }

    public static string WalDirectory(string raftDirectory) => Path.Combine(raftDirectory, "wal");

    public static string SnapshotDirectory(string raftDirectory) => Path.Combine(raftDirectory, "snapshots");

    public static string MembersFile(string raftDirectory) => Path.Combine(raftDirectory, "members.bin");
}
