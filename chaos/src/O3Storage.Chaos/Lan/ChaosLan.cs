// Owns: the network the chaos suite's nodes live on: a bridge in its own namespace (o3c-lan), one
// namespace per node at 198.18.0.N/24, and one for the clients at 198.18.0.200, and the partitions cut
// into it (nftables in each node's namespace drops what comes from the nodes it may not hear).
// Assumes: root, iproute2 and nftables. Nothing is routed out: the bridge has no uplink, so every packet
// stays among these namespaces. Names carry a prefix so leftovers of a killed run are found and removed.
namespace O3Storage.Chaos.Lan;

internal sealed class ChaosLan(int nodes, string prefix = "o3c") : IDisposable
{
    public const int ClientHost = 200;

    public string LanNamespace => $"{prefix}-lan";

    public string ClientNamespace => $"{prefix}-client";

    public string NodeNamespace(int node) => $"{prefix}-n{node}";

    public static string Ip(int host) => $"198.18.0.{host}";

    /// <summary>Removes what an earlier run left, then builds the network.</summary>
    public void Up()
    {
        RemoveLeftovers(prefix);
        Shell.Run("ip", ["netns", "add", LanNamespace]);
        Shell.Run("ip", ["-n", LanNamespace, "link", "add", "br0", "type", "bridge"]);
        Shell.Run("ip", ["-n", LanNamespace, "link", "set", "br0", "up"]);
        for (int node = 1; node <= nodes; node++)
        {
            AddHost(NodeNamespace(node), node);
        }

        AddHost(ClientNamespace, ClientHost);
    }

    private void AddHost(string ns, int host)
    {
        Shell.Run("ip", ["netns", "add", ns]);
        Shell.Run("ip", ["link", "add", $"veth{host}", "netns", LanNamespace, "type", "veth", "peer", "name", "eth0", "netns", ns]);
        Shell.Run("ip", ["-n", LanNamespace, "link", "set", $"veth{host}", "master", "br0", "up"]);
        Shell.Run("ip", ["-n", ns, "addr", "add", $"{Ip(host)}/24", "dev", "eth0"]);
        Shell.Run("ip", ["-n", ns, "link", "set", "eth0", "up"]);
        Shell.Run("ip", ["-n", ns, "link", "set", "lo", "up"]);
    }

    /// <summary>
    /// Each node drops packets from the nodes listed for it (both ways, since each side lists the other);
    /// clients still reach every node. Replaces any partition in force.
    /// </summary>
    public void Partition(IReadOnlyDictionary<int, List<int>> blocked)
    {
        foreach ((int node, List<int> from) in blocked)
        {
            string rules = from.Count == 0 ? "" : $"ip saddr {{ {string.Join(", ", from.Select(Ip))} }} drop";
            string script = $$"""
                table inet o3chaos
                delete table inet o3chaos
                table inet o3chaos {
                  chain input {
                    type filter hook input priority 0; policy accept;
                    {{rules}}
                  }
                }
                """;
            Shell.Run("ip", ["netns", "exec", NodeNamespace(node), "nft", "-f", "-"], script);
        }
    }

    /// <summary>Every node hears every node again.</summary>
    public void Heal()
    {
        for (int node = 1; node <= nodes; node++)
        {
            Shell.Run("ip", ["netns", "exec", NodeNamespace(node), "nft", "delete", "table", "inet", "o3chaos"], mayFail: true);
        }
    }

    public void Dispose() => RemoveLeftovers(prefix);

    private static void RemoveLeftovers(string prefix)
    {
        foreach (string line in Shell.Run("ip", ["netns", "list"]).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string ns = line.Split(' ')[0];
            if (!ns.StartsWith(prefix + "-", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (string pid in Shell.Run("ip", ["netns", "pids", ns], mayFail: true).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                _ = Interop.Kill(int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture), 9);
            }

            Shell.Run("ip", ["netns", "del", ns], mayFail: true);
        }
    }
}
