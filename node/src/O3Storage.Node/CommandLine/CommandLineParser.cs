// Owns: turning argv into NodeOptions or a one-line usage error.
// The guide's forms must parse exactly as written: `--ip IP --port 8080 --bootstrap` and
// `--ip IP --port 8080 --peers A,B,C` where a peer is `ip` or `ip:port`.
using System.Globalization;
using System.Net;
using O3Storage.Cluster;
using O3Storage.Cluster.Metadata;
using O3Storage.Provisioning;

namespace O3Storage.Node.CommandLine;

public static class CommandLineParser
{
    public const string Usage = """
        Usage: o3storage --ip IP [--port PORT] (--bootstrap | --peers PEER[,PEER...] | --discover) [options]
               o3storage check|compact [--data DIR] [--device PATH]
               o3storage boot-config FILE
               o3storage keys [--api-keys PATH]
               o3storage --version | --help

        Runs one O3StorageOS node: a Raft member that serves /health (and later S3) on IP:PORT.

          --ip IP              this node's address, reachable by its peers (required)
          --port PORT          API port for S3, /health and /admin (default 8080)
          --bootstrap          start a new cluster with this node as its first member
          --peers LIST         join an existing cluster through any of these members;
                               comma-separated ip or ip:port (port defaults to --port)
          --discover           find the cluster over mDNS (avahi-daemon on the system
                               bus): join a member that advertises it, or, with the
                               expected number of boards visible, let the lowest
                               bootstrap it; keeps advertising this node afterwards
          --boot-config FILE   o3storage.txt: cluster_name, join_token, expected_nodes
                               (default: cluster o3storage, the open token, 3 nodes);
                               with a join_token, joins must prove it
          --data DIR           node state directory (default /opt/o3storage/data)
          --board BOARD        board profile for the status LED and sensors: auto (from
                               the device tree), none, raspberry-pi-4, raspberry-pi-5,
                               qemu-virt, or a profile JSON file (default auto)
          --hardware-root DIR  look for sys/ and proc/ under DIR instead of / (tests)
          --device PATH        raw partition or file for blob data (default DIR/blobs.dev,
                               created on first start; a blank device is formatted)
          --device-size SIZE   size of the default DIR/blobs.dev: 300M, 1G, ... (default 1G)
          --require-direct-io  refuse to start if the device cannot be opened O_DIRECT
                               (default: fall back to buffered O_DSYNC IO with a warning)
          --compaction-rate SIZE
                               background compaction writes at most SIZE per second
                               (default 16M; 0 turns it off)
          --orphan-grace TIME  keep blobs of writes that never committed this long before
                               collecting them (default 1h; e.g. 30m, 90s)
          --dead-node-grace TIME
                               a member down this long no longer counts as a holder: its
                               objects are copied elsewhere (default 5m; e.g. 90s, 10m)
          --rebalance-rate SIZE
                               repair, drain and rebalance copy at most SIZE per second
                               (default 32M; 0: unpaced)
          --scrub-rate SIZE    the background scrub reads this node's blobs back and
                               verifies them at most SIZE per second (default 8M; 0: off)
          --scrub-interval TIME
                               a scrub pass starts this long after the previous one
                               started (default 24h; e.g. 6h, 30m)
          --api-keys PATH      role:key lines (admin, read-write, read-only), mode 600
                               (default /opt/o3storage/api-keys.txt; if that file does
                               not exist, authentication is off)
          --certs DIR          ca-cert.pem and this node's *-cert.pem (CN = its IP) and
                               *-key.pem: mutual TLS between nodes on the Raft port
                               (default /opt/o3storage/certs; no .pem files there: the
                               cluster's own CA, made at bootstrap, given to joiners)
          --join-token-file FILE
                               the cluster's join token (default /opt/o3storage/join-token):
                               a joining node proves it to get the cluster's CA; a
                               bootstrap without it makes one (in DATA/certs/join-token)
          --cluster-port PORT  Raft and node-to-node port (default PORT + 10)
          --config FILE        cluster.json: cluster_id, nodes, replication_factor,
                               consistency_level; without --bootstrap/--peers the node
                               with role "leader" bootstraps and the others join it
          --join-timeout SECS  how long a new node tries to reach and join its peers
                               (default 30, 300 with --discover; also 500ms, 2s)
          --log-level LEVEL    debug, info, warning or error (default info)
          --log-file PATH      also append the log to PATH (kept under 10 MiB: the
                               previous 10 MiB move to PATH.1); stdout gets it anyway
          --version            print the version and exit
          -h, --help           print this help and exit

        boot-config checks an o3storage.txt and prints its settings as shell assignments
        (first boot reads hostname and static address from it); exit 1 names every mistake.
        check verifies every blob's checksum and reports damage (exit 1 if any); compact
        reclaims the space of deleted blobs. Both need the node stopped. keys prints each
        key's role and S3 access key id (the secret access key is the key itself).

        A node restarted on an existing --data directory rejoins with its state;
        --bootstrap and --peers then only matter for a node that has no state yet.
        """;

    private static readonly HashSet<string> s_valueFlags =
        ["--ip", "--port", "--peers", "--data", "--cluster-port", "--config", "--join-timeout", "--log-level", "--device", "--device-size", "--compaction-rate", "--api-keys", "--certs", "--join-token-file", "--orphan-grace", "--dead-node-grace", "--rebalance-rate", "--scrub-rate", "--scrub-interval", "--log-file", "--boot-config", "--board", "--hardware-root"];

    public static ParseResult Parse(IReadOnlyList<string> args)
    {
        if (args.Count > 0 && args[0] is "check" or "compact")
        {
            return ParseMaintenance(args);
        }

        if (args.Count > 0 && args[0] == "boot-config")
        {
            return args.Count == 2 && !args[1].StartsWith('-') ? new ParseResult.CheckBootConfig(args[1]) : Fail("boot-config takes one argument: the o3storage.txt to check");
        }

        if (args.Count > 0 && args[0] == "keys")
        {
            return args.Count switch
            {
                1 => new ParseResult.ListKeys(NodeOptions.DefaultApiKeysPath),
                3 when args[1] == "--api-keys" => new ParseResult.ListKeys(Path.GetFullPath(args[2])),
                2 when args[1].StartsWith("--api-keys=", StringComparison.Ordinal) => new ParseResult.ListKeys(Path.GetFullPath(args[1]["--api-keys=".Length..])),
                _ => Fail("keys takes only --api-keys PATH"),
            };
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        bool bootstrap = false;
        bool requireDirectIo = false;
        bool discover = false;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "--help")
            {
                return new ParseResult.ShowHelp();
            }

            if (arg == "--version")
            {
                return new ParseResult.ShowVersion();
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                return Fail($"unexpected argument '{arg}'");
            }

            string name = arg;
            string? value = null;
            int equals = arg.IndexOf('=');
            if (equals > 0)
            {
                name = arg[..equals];
                value = arg[(equals + 1)..];
            }

            if (name == "--bootstrap")
            {
                if (value is not null)
                {
                    return Fail("--bootstrap takes no value");
                }

                if (bootstrap)
                {
                    return Fail("--bootstrap given twice");
                }

                bootstrap = true;
                continue;
            }

            if (name == "--discover")
            {
                if (value is not null || discover)
                {
                    return Fail(value is null ? "--discover given twice" : "--discover takes no value");
                }

                discover = true;
                continue;
            }

            if (name == "--require-direct-io")
            {
                if (value is not null || requireDirectIo)
                {
                    return Fail(value is null ? "--require-direct-io given twice" : "--require-direct-io takes no value");
                }

                requireDirectIo = true;
                continue;
            }

            if (!s_valueFlags.Contains(name))
            {
                return Fail($"unknown flag {name}");
            }

            if (value is null)
            {
                if (i + 1 >= args.Count || (args[i + 1].StartsWith("--", StringComparison.Ordinal) && args[i + 1].Length > 2))
                {
                    return Fail($"{name} needs a value");
                }

                value = args[++i];
            }

            if (!values.TryAdd(name, value))
            {
                return Fail($"{name} given twice");
            }
        }

        return Build(values, bootstrap, requireDirectIo, discover);
    }

    private static ParseResult Build(Dictionary<string, string> values, bool bootstrap, bool requireDirectIo, bool discover)
    {
        int port = NodeOptions.DefaultApiPort;
        if (values.TryGetValue("--port", out string? portText) && !NodeAddress.TryParsePort(portText, out port))
        {
            return Fail($"--port '{portText}' is not a port (1-65535)");
        }

        if (!values.TryGetValue("--ip", out string? ipText))
        {
            return Fail("--ip is required: give this node's address, e.g. --ip 192.168.1.101");
        }

        if (!IPAddress.TryParse(ipText, out IPAddress? ip) || (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && ipText.Count(c => c == '.') != 3))
        {
            return Fail($"--ip '{ipText}' is not an IP address");
        }

        if (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any))
        {
            return Fail($"--ip {ipText} is not an address peers can reach: give this node's own address");
        }

        int clusterPort = port + NodeOptions.ClusterPortOffset;
        if (values.TryGetValue("--cluster-port", out string? clusterPortText))
        {
            if (!NodeAddress.TryParsePort(clusterPortText, out clusterPort))
            {
                return Fail($"--cluster-port '{clusterPortText}' is not a port (1-65535)");
            }
        }
        else if (clusterPort > 65535)
        {
            return Fail($"--port {port} leaves no room for the default cluster port ({clusterPort}); give --cluster-port");
        }

        if (clusterPort == port)
        {
            return Fail($"--cluster-port {clusterPort} must differ from --port");
        }

        var self = new NodeAddress(ip, port);
        ClusterSettings settings = ClusterSettings.Default;
        var peers = new List<NodeAddress>();
        bool peersGiven = values.TryGetValue("--peers", out string? peersText);
        if (bootstrap && peersGiven)
        {
            return Fail("--bootstrap and --peers conflict: --bootstrap starts a new cluster, --peers joins an existing one");
        }

        if (discover && (bootstrap || peersGiven || values.ContainsKey("--config")))
        {
            return Fail($"--discover conflicts with {(bootstrap ? "--bootstrap" : peersGiven ? "--peers" : "--config")}: --discover finds the cluster over mDNS and decides itself whether to bootstrap or join");
        }

        BootConfig? bootConfig = discover ? BootConfig.Default : null;
        if (values.TryGetValue("--boot-config", out string? bootConfigPath))
        {
            try
            {
                bootConfig = BootConfig.Load(Path.GetFullPath(bootConfigPath));
            }
            catch (BootConfigException e)
            {
                return Fail($"--boot-config {e.Message}");
            }
        }

        if (peersGiven)
        {
            foreach (string part in peersText!.Split(',', StringSplitOptions.TrimEntries))
            {
                if (!NodeAddress.TryParse(part, port, out NodeAddress peer, out string? error))
                {
                    return Fail($"--peers: {error}");
                }

                if (peer != self && !peers.Contains(peer))
                {
                    peers.Add(peer);
                }
            }

            if (peers.Count == 0)
            {
                return Fail("--peers lists only this node; name at least one other member, or use --bootstrap");
            }
        }

        if (values.TryGetValue("--config", out string? configPath))
        {
            if (!ClusterConfig.TryLoad(configPath, port, out ClusterConfig? config, out string? error))
            {
                return Fail(error!);
            }

            settings = config!.Settings;
            if (!bootstrap && !peersGiven)
            {
                bool selfIsLeader = config.Nodes.Any(n => n.Address == self && n.Role == "leader");
                bootstrap = selfIsLeader;
                if (!selfIsLeader)
                {
                    peers.AddRange(config.Nodes.Select(n => n.Address).Where(a => a != self).Distinct());
                }
            }
        }

        // A board that found its cluster over mDNS has nothing else to do but join: it keeps at it for
        // minutes (a slow or busy board, or a member that has just bootstrapped, takes a while).
        TimeSpan joinTimeout = discover ? NodeOptions.DiscoveryJoinTimeout : NodeOptions.DefaultJoinTimeout;
        if (values.TryGetValue("--join-timeout", out string? timeoutText) && !TryParseDuration(timeoutText, out joinTimeout))
        {
            return Fail($"--join-timeout '{timeoutText}' is not a duration (e.g. 30, 2s, 500ms)");
        }

        TimeSpan orphanGrace = NodeOptions.DefaultOrphanGrace;
        if (values.TryGetValue("--orphan-grace", out string? graceText) && !TryParseDuration(graceText, out orphanGrace))
        {
            return Fail($"--orphan-grace '{graceText}' is not a duration from 1ms to 24h (e.g. 1h, 30m, 90s)");
        }

        TimeSpan deadNodeGrace = NodeOptions.DefaultDeadNodeGrace;
        if (values.TryGetValue("--dead-node-grace", out string? deadText) && !TryParseDuration(deadText, out deadNodeGrace))
        {
            return Fail($"--dead-node-grace '{deadText}' is not a duration from 1ms to 24h (e.g. 5m, 90s)");
        }

        long rebalanceRate = NodeOptions.DefaultRebalanceBytesPerSecond;
        if (values.TryGetValue("--rebalance-rate", out string? rebalanceText) && !(rebalanceText == "0" || TryParseSize(rebalanceText, out rebalanceRate)))
        {
            return Fail($"--rebalance-rate '{rebalanceText}' is not a size per second (e.g. 32M, 512K; 0: unpaced)");
        }

        rebalanceRate = rebalanceText == "0" ? 0 : rebalanceRate;

        long scrubRate = NodeOptions.DefaultScrubBytesPerSecond;
        if (values.TryGetValue("--scrub-rate", out string? scrubText) && !(scrubText == "0" || TryParseSize(scrubText, out scrubRate)))
        {
            return Fail($"--scrub-rate '{scrubText}' is not a size per second (e.g. 8M, 512K; 0: off)");
        }

        scrubRate = scrubText == "0" ? 0 : scrubRate;
        TimeSpan scrubInterval = NodeOptions.DefaultScrubInterval;
        if (values.TryGetValue("--scrub-interval", out string? scrubIntervalText) && !TryParseDuration(scrubIntervalText, out scrubInterval))
        {
            return Fail($"--scrub-interval '{scrubIntervalText}' is not a duration from 1ms to 24h (e.g. 24h, 30m)");
        }
        string logLevel = values.GetValueOrDefault("--log-level", "info");
        if (logLevel is not ("debug" or "info" or "warning" or "error"))
        {
            return Fail($"--log-level '{logLevel}' must be debug, info, warning or error");
        }

        string? logFile = values.GetValueOrDefault("--log-file");
        if (logFile is { Length: 0 } || (logFile is not null && logFile.EndsWith('/')))
        {
            return Fail($"--log-file '{logFile}' must name a file");
        }

        long deviceSize = NodeOptions.DefaultDeviceSizeBytes;
        if (values.TryGetValue("--device-size", out string? sizeText))
        {
            if (!TryParseSize(sizeText, out deviceSize))
            {
                return Fail($"--device-size '{sizeText}' is not a size (e.g. 300M, 1G, 2T)");
            }

            if (deviceSize < NodeOptions.DeviceSizeBytesMin)
            {
                return Fail($"--device-size {sizeText} is below the minimum of 268M (superblocks and two 132M segments)");
            }
        }

        long compactionRate = NodeOptions.DefaultCompactionBytesPerSecond;
        if (values.TryGetValue("--compaction-rate", out string? rateText) && !(rateText == "0" || TryParseSize(rateText, out compactionRate)))
        {
            return Fail($"--compaction-rate '{rateText}' is not a size per second (e.g. 16M, 512K; 0 turns background compaction off)");
        }

        compactionRate = rateText == "0" ? 0 : compactionRate;
        string? device = values.GetValueOrDefault("--device");
        if (device is not null && values.ContainsKey("--device-size"))
        {
            return Fail("--device-size only sizes the default DIR/blobs.dev; an explicit --device keeps its own size");
        }

        string board = values.GetValueOrDefault("--board", "auto");
        if (board.Length == 0)
        {
            return Fail("--board needs auto, none, a profile name or a profile file");
        }

        string hardwareRoot = values.GetValueOrDefault("--hardware-root", "/");
        if (hardwareRoot.Length == 0 || !Directory.Exists(hardwareRoot))
        {
            return Fail($"--hardware-root '{hardwareRoot}' is not a directory");
        }

        string data = values.GetValueOrDefault("--data", NodeOptions.DefaultDataDirectory);
        if (data.Length == 0)
        {
            return Fail("--data needs a directory");
        }

        return new ParseResult.Run(new NodeOptions
        {
            Api = self,
            Cluster = new NodeAddress(ip, clusterPort),
            Bootstrap = bootstrap,
            Peers = peers,
            Discover = discover,
            BootConfig = bootConfig,
            Board = board,
            HardwareRoot = Path.GetFullPath(hardwareRoot),
            DataDirectory = Path.GetFullPath(data),
            JoinTimeout = joinTimeout,
            OrphanGrace = orphanGrace,
            DeadNodeGrace = deadNodeGrace,
            RebalanceBytesPerSecond = rebalanceRate,
            ScrubBytesPerSecond = scrubRate,
            ScrubInterval = scrubInterval,
            Settings = settings,
            LogLevel = logLevel,
            LogFilePath = logFile is null ? null : Path.GetFullPath(logFile),
            DevicePath = device is null ? null : Path.GetFullPath(device),
            DeviceSizeBytes = deviceSize,
            RequireDirectIo = requireDirectIo,
            CompactionBytesPerSecond = compactionRate,
            ApiKeysPath = values.TryGetValue("--api-keys", out string? keysPath) ? Path.GetFullPath(keysPath) : NodeOptions.DefaultApiKeysPath,
            ApiKeysExplicit = keysPath is not null,
            CertificatesDirectory = values.TryGetValue("--certs", out string? certs) ? Path.GetFullPath(certs) : NodeOptions.DefaultCertificatesDirectory,
            CertificatesExplicit = certs is not null,
            JoinTokenFile = values.TryGetValue("--join-token-file", out string? tokenFile) ? Path.GetFullPath(tokenFile) : NodeOptions.DefaultJoinTokenFile,
            JoinTokenExplicit = tokenFile is not null,
        });
    }

    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        (string number, double scaleMs) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 1.0)
            : text.EndsWith('s') ? (text[..^1], 1000.0)
            : text.EndsWith('m') ? (text[..^1], 60_000.0)
            : text.EndsWith('h') ? (text[..^1], 3_600_000.0)
            : (text, 1000.0);
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || value <= 0 || value * scaleMs > TimeSpan.FromDays(1).TotalMilliseconds)
        {
            return false;
        }

        duration = TimeSpan.FromMilliseconds(value * scaleMs);
        return true;
    }

    private static ParseResult ParseMaintenance(IReadOnlyList<string> args)
    {
        string data = NodeOptions.DefaultDataDirectory;
        string? device = null;
        for (int i = 1; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "--help")
            {
                return new ParseResult.ShowHelp();
            }

            if (arg is not ("--data" or "--device"))
            {
                return Fail($"{args[0]}: unknown argument '{arg}' (it takes --data DIR and --device PATH)");
            }

            if (i + 1 >= args.Count)
            {
                return Fail($"{arg} needs a value");
            }

            if (arg == "--data")
            {
                data = args[++i];
            }
            else
            {
                device = args[++i];
            }
        }

        return new ParseResult.Maintain(args[0], Path.GetFullPath(data), device is null ? null : Path.GetFullPath(device));
    }

    /// <summary>Parses a byte count with an optional binary suffix K, M, G or T; rounds down to 4 KiB.</summary>
    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        long scale = text.Length == 0 ? 1 : char.ToUpperInvariant(text[^1]) switch
        {
            'K' => 1L << 10,
            'M' => 1L << 20,
            'G' => 1L << 30,
            'T' => 1L << 40,
            _ => 1,
        };
        string number = scale == 1 ? text : text[..^1];
        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value <= 0 || value > long.MaxValue / scale)
        {
            return false;
        }

        bytes = value * scale / 4096 * 4096;
        return bytes > 0;
    }

    private static ParseResult.Error Fail(string message) => new(message);
}
