using O3Storage.Cluster;
using O3Storage.Cluster.Metadata;

namespace O3Storage.Node.CommandLine;

/// <summary>How this node was asked to run, after flags and <c>cluster.json</c> were merged and validated.</summary>
public sealed record NodeOptions
{
    public const int DefaultApiPort = 8080;
    public const int ClusterPortOffset = 10;
    public const string DefaultDataDirectory = "/opt/o3storage/data";
    public static readonly TimeSpan DefaultJoinTimeout = TimeSpan.FromSeconds(30);

    public required NodeAddress Api { get; init; }

    public required NodeAddress Cluster { get; init; }

    public bool Bootstrap { get; init; }

    /// <summary>API addresses of existing members to join through; never contains this node.</summary>
    public IReadOnlyList<NodeAddress> Peers { get; init; } = [];

    public string DataDirectory { get; init; } = DefaultDataDirectory;

    public TimeSpan JoinTimeout { get; init; } = DefaultJoinTimeout;

    /// <summary>Settings committed if this node bootstraps a new cluster.</summary>
    public ClusterSettings Settings { get; init; } = ClusterSettings.Default;

    public string LogLevel { get; init; } = "info";

    public string NodeId => Api.ToString();
}
