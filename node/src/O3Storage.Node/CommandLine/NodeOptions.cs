using O3Storage.Cluster;
using O3Storage.Cluster.Metadata;
using O3Storage.Provisioning;

namespace O3Storage.Node.CommandLine;

/// <summary>How this node was asked to run, after flags and <c>cluster.json</c> were merged and validated.</summary>
public sealed record NodeOptions
{
    public const int DefaultApiPort = 8080;
    public const int ClusterPortOffset = 10;
    public const string DefaultDataDirectory = "/opt/o3storage/data";
    public static readonly TimeSpan DefaultJoinTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The join deadline of a node that found its cluster over mDNS (--discover), unless --join-timeout says otherwise.</summary>
    public static readonly TimeSpan DiscoveryJoinTimeout = TimeSpan.FromMinutes(5);

    public required NodeAddress Api { get; init; }

    public required NodeAddress Cluster { get; init; }

    public bool Bootstrap { get; init; }

    /// <summary>API addresses of existing members to join through; never contains this node.</summary>
    public IReadOnlyList<NodeAddress> Peers { get; init; } = [];

    /// <summary>Find the cluster over mDNS and decide between bootstrap and join (first boot of the image).</summary>
    public bool Discover { get; init; }

    /// <summary>o3storage.txt: cluster name, join token, expected nodes. Null: no token is asked of joining nodes.</summary>
    public BootConfig? BootConfig { get; init; }

    public string DataDirectory { get; init; } = DefaultDataDirectory;

    /// <summary>Which board profile: "auto" (from the device tree), "none", a built-in name, or a JSON file.</summary>
    public string Board { get; init; } = "auto";

    /// <summary>Where /sys and /proc are looked for (a fake tree in tests); devices are opened only under "/".</summary>
    public string HardwareRoot { get; init; } = "/";

    public TimeSpan JoinTimeout { get; init; } = DefaultJoinTimeout;

    /// <summary>Settings committed if this node bootstraps a new cluster.</summary>
    public ClusterSettings Settings { get; init; } = ClusterSettings.Default;

    public string LogLevel { get; init; } = "info";

    /// <summary>A file the log is also appended to (the image's /var/log/o3storage); null: stdout only.</summary>
    public string? LogFilePath { get; init; }

    /// <summary>1 GiB: room for seven 132 MiB segments; reserved with fallocate when the file is made.</summary>
    public const long DefaultDeviceSizeBytes = 1024L * 1024 * 1024;

    /// <summary>The smallest device the store accepts: 4 MiB for superblocks plus two 132 MiB segments.</summary>
    public const long DeviceSizeBytesMin = (4L * 1024 * 1024) + (2 * 132L * 1024 * 1024);

    /// <summary>A raw partition or file for blobs; null: <c>DIR/blobs.dev</c>, created on first start.</summary>
    public string? DevicePath { get; init; }

    public long DeviceSizeBytes { get; init; } = DefaultDeviceSizeBytes;

    /// <summary>Refuse a device that cannot do O_DIRECT (production); otherwise fall back with a warning.</summary>
    public bool RequireDirectIo { get; init; }

    /// <summary>16 MiB/s: well under an SD card's write bandwidth, so clients keep most of it.</summary>
    public const long DefaultCompactionBytesPerSecond = 16L * 1024 * 1024;

    /// <summary>The background compaction budget; 0: no background compaction (a full store still compacts inline).</summary>
    public long CompactionBytesPerSecond { get; init; } = DefaultCompactionBytesPerSecond;

    /// <summary>One hour: longer than any upload takes to stream its body before it commits.</summary>
    public static readonly TimeSpan DefaultOrphanGrace = TimeSpan.FromHours(1);

    /// <summary>How long a blob no commit ever referred to is kept before it is collected.</summary>
    public TimeSpan OrphanGrace { get; init; } = DefaultOrphanGrace;

    /// <summary>
    /// Five minutes: a reboot or a rolling update's restart (well under a minute) moves no data, while a
    /// board that died is rebuilt elsewhere before a second failure is likely.
    /// </summary>
    public static readonly TimeSpan DefaultDeadNodeGrace = TimeSpan.FromMinutes(5);

    /// <summary>How long a member may be down before its replicas stop counting: they are rebuilt elsewhere, and autopilot may remove it.</summary>
    public TimeSpan DeadNodeGrace { get; init; } = DefaultDeadNodeGrace;

    /// <summary>32 MiB/s: about half of a Raspberry Pi's USB SSD or a good SD card's write bandwidth, so clients keep the rest.</summary>
    public const long DefaultRebalanceBytesPerSecond = 32L * 1024 * 1024;

    /// <summary>The budget for copying replicas (repair, drain, rebalance), on the leader that runs them; 0: unpaced.</summary>
    public long RebalanceBytesPerSecond { get; init; } = DefaultRebalanceBytesPerSecond;

    /// <summary>8 MiB/s: a pass over a 64 GB card in about two and a half hours, a small share of its read bandwidth.</summary>
    public const long DefaultScrubBytesPerSecond = 8L * 1024 * 1024;

    /// <summary>How fast the background scrub reads this node's blobs back to verify them; 0: no scrub.</summary>
    public long ScrubBytesPerSecond { get; init; } = DefaultScrubBytesPerSecond;

    /// <summary>A day: each blob is read back at least daily (a pass that takes longer is followed by the next at once).</summary>
    public static readonly TimeSpan DefaultScrubInterval = TimeSpan.FromHours(24);

    /// <summary>Time from the start of one scrub pass to the start of the next.</summary>
    public TimeSpan ScrubInterval { get; init; } = DefaultScrubInterval;

    public const string DefaultApiKeysPath = "/opt/o3storage/api-keys.txt";

    /// <summary>The guide's api-keys.txt. Missing at the default path: authentication is off.</summary>
    public string ApiKeysPath { get; init; } = DefaultApiKeysPath;

    /// <summary>--api-keys was given: then a missing file is an error, not "authentication off".</summary>
    public bool ApiKeysExplicit { get; init; }

    public const string DefaultCertificatesDirectory = "/opt/o3storage/certs";

    /// <summary>The guide's certificate directory. No .pem files at the default path: peer TLS is off.</summary>
    public string CertificatesDirectory { get; init; } = DefaultCertificatesDirectory;

    /// <summary>--certs was given: then a directory without certificates is an error, not "peer TLS off".</summary>
    public bool CertificatesExplicit { get; init; }

    public const string DefaultJoinTokenFile = "/opt/o3storage/join-token";

    /// <summary>
    /// The cluster's join token for a node without o3storage.txt: a joining node proves it to get the
    /// cluster CA; a bootstrapping node uses it instead of making one. Missing at the default path: a
    /// bootstrap makes a token, a join without the operator's certificates is refused.
    /// </summary>
    public string JoinTokenFile { get; init; } = DefaultJoinTokenFile;

    /// <summary>--join-token-file was given: then a missing file is an error.</summary>
    public bool JoinTokenExplicit { get; init; }

    public string NodeId => Api.ToString();
}
