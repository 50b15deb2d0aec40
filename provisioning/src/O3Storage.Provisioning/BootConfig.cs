// Owns: o3storage.txt, the one file a user may edit on the card's FAT partition before first boot
// (cluster name, join token, expected node count, hostname, static address, extra local networks),
// parsed and validated.
// Assumes: the file was edited anywhere: Windows Notepad (BOM, CRLF), macOS TextEdit, nano; so
// line endings and a byte-order mark are accepted, everything else is checked and every mistake is
// reported with its line number, all at once, so one edit fixes the card.
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace O3Storage.Provisioning;

/// <summary>The validated content of o3storage.txt; every field has a default, so an absent file is <see cref="Default"/>.</summary>
/// <param name="LocalNetworks">
/// Networks the board's firewall treats as local beside the private ranges (10/8, 172.16/12,
/// 192.168/16, link-local, fc00::/7): a LAN numbered from CGNAT space (100.64.0.0/10) or a VPN.
/// </param>
public sealed partial record BootConfig(string ClusterName, string? JoinTokenValue, int ExpectedNodes, string? Hostname, StaticAddress? Address, IReadOnlyList<IPNetwork> LocalNetworks)
{
    public const string DefaultClusterName = "o3storage";
    public const int DefaultExpectedNodes = 3;
    public const int ExpectedNodesMax = 99;
    public const int JoinTokenLengthMin = 12;

    /// <summary>
    /// The token of a card nobody edited. Every default image shares it, so it keeps two default
    /// clusters apart only by name and keeps no stranger's board out; the node says so in its log.
    /// </summary>
    public const string OpenJoinToken = "o3storage-open-cluster";

    /// <summary>The widest network local_networks takes: anything wider is a good part of the internet.</summary>
    public const int LocalNetworkPrefixMinIPv4 = 8;

    public const int LocalNetworkPrefixMinIPv6 = 16;

    public const int LocalNetworksMax = 16;

    public static BootConfig Default { get; } = new(DefaultClusterName, null, DefaultExpectedNodes, null, null, []);

    /// <summary>The token adverts and joins are proved with: the file's, or the open one.</summary>
    public string JoinToken => JoinTokenValue ?? OpenJoinToken;

    public bool IsOpen => JoinTokenValue is null;

    /// <summary>Equal settings: the local networks compared by content, in order.</summary>
    public bool Equals(BootConfig? other) =>
        other is not null && ClusterName == other.ClusterName && JoinTokenValue == other.JoinTokenValue
        && ExpectedNodes == other.ExpectedNodes && Hostname == other.Hostname && Equals(Address, other.Address)
        && LocalNetworks.SequenceEqual(other.LocalNetworks);

    public override int GetHashCode() => HashCode.Combine(ClusterName, JoinTokenValue, ExpectedNodes, Hostname, Address, LocalNetworks.Count);

    public static readonly IReadOnlyList<string> Keys = ["cluster_name", "join_token", "expected_nodes", "hostname", "address", "gateway", "dns", "local_networks"];

    /// <summary>Parses the file's text; null with every problem (one per line, "line N: ...") in <paramref name="errors"/>.</summary>
    public static BootConfig? TryParse(string text, out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(text);
        var problems = new List<string>();
        var values = new Dictionary<string, (string Value, int Line)>(StringComparer.Ordinal);
        string[] lines = text.TrimStart('\uFEFF').Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int number = i + 1;
            string line = lines[i].TrimEnd('\r').Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            int equals = line.IndexOf('=');
            if (equals <= 0)
            {
                problems.Add($"line {number}: expected key=value, found '{Shorten(line)}'");
                continue;
            }

            string key = line[..equals].Trim().ToLowerInvariant();
            string value = line[(equals + 1)..];

            value = WithoutNote(value).Trim();
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                value = value[1..^1];
            }

            if (!Keys.Contains(key))
            {
                problems.Add($"line {number}: unknown setting '{Shorten(key)}' (known: {string.Join(", ", Keys)})");
            }
            else if (values.TryGetValue(key, out var earlier))
            {
                problems.Add($"line {number}: {key} is already set on line {earlier.Line}");
            }
            else
            {
                values[key] = (value, number);
            }
        }

        string clusterName = DefaultClusterName;
        if (Get("cluster_name") is { } name)
        {
            if (ClusterNamePattern().IsMatch(name.Value))
            {
                clusterName = name.Value;
            }
            else
            {
                problems.Add($"line {name.Line}: cluster_name must be 1-63 lowercase letters, digits and '-', not starting or ending with '-'");
            }
        }

        string? token = null;
        if (Get("join_token") is { } tokenValue)
        {
            if (tokenValue.Value.Length < JoinTokenLengthMin || tokenValue.Value.Length > 128 || tokenValue.Value.Any(c => c <= ' ' || c > '~'))
            {
                problems.Add($"line {tokenValue.Line}: join_token must be {JoinTokenLengthMin}-128 printable ASCII characters without spaces (try: openssl rand -hex 16)");
            }
            else
            {
                token = tokenValue.Value;
            }
        }

        int expected = DefaultExpectedNodes;
        if (Get("expected_nodes") is { } expectedValue)
        {
            if (!int.TryParse(expectedValue.Value, NumberStyles.None, CultureInfo.InvariantCulture, out expected) || expected < 1 || expected > ExpectedNodesMax)
            {
                problems.Add($"line {expectedValue.Line}: expected_nodes must be a whole number from 1 to {ExpectedNodesMax}, not '{Shorten(expectedValue.Value)}'");
                expected = DefaultExpectedNodes;
            }
        }

        string? hostname = null;
        if (Get("hostname") is { } host)
        {
            if (HostnamePattern().IsMatch(host.Value))
            {
                hostname = host.Value.ToLowerInvariant();
            }
            else
            {
                problems.Add($"line {host.Line}: hostname must be 1-63 letters, digits and '-', not starting or ending with '-' (no dots: the board is <hostname>.local)");
            }
        }

        StaticAddress? address = null;
        IPAddress? gateway = null;
        var dns = new List<IPAddress>();
        if (Get("gateway") is { } gatewayValue && !TryIPv4(gatewayValue.Value, out gateway))
        {
            problems.Add($"line {gatewayValue.Line}: gateway must be an IPv4 address such as 192.168.1.1, not '{Shorten(gatewayValue.Value)}'");
        }

        if (Get("dns") is { } dnsValue)
        {
            foreach (string server in dnsValue.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (TryIPv4(server, out IPAddress? parsed))
                {
                    dns.Add(parsed);
                }
                else
                {
                    problems.Add($"line {dnsValue.Line}: dns must be comma-separated IPv4 addresses, and '{Shorten(server)}' is not one");
                }
            }
        }

        if (Get("address") is { } addressValue)
        {
            string[] parts = addressValue.Value.Split('/');
            if (parts.Length == 2 && TryIPv4(parts[0], out IPAddress? ip)
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int prefix) && prefix is >= 8 and <= 30)
            {
                address = new StaticAddress(ip, prefix, gateway, dns);
            }
            else
            {
                problems.Add($"line {addressValue.Line}: address must be IPv4 with a prefix length from 8 to 30, such as 192.168.1.101/24, not '{Shorten(addressValue.Value)}'");
            }
        }
        else if (Get("gateway") is { } orphanGateway)
        {
            problems.Add($"line {orphanGateway.Line}: gateway needs address (without address the board uses DHCP, which gives the gateway)");
        }
        else if (Get("dns") is { } orphanDns)
        {
            problems.Add($"line {orphanDns.Line}: dns needs address (without address the board uses DHCP, which gives the DNS servers)");
        }

        var localNetworks = new List<IPNetwork>();
        if (Get("local_networks") is { } networksValue)
        {
            foreach (string network in networksValue.Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (ParseLocalNetwork(network) is { } problem)
                {
                    problems.Add($"line {networksValue.Line}: local_networks: {problem}");
                }
                else
                {
                    localNetworks.Add(IPNetwork.Parse(network));
                }
            }

            if (localNetworks.Count > LocalNetworksMax)
            {
                problems.Add($"line {networksValue.Line}: local_networks takes at most {LocalNetworksMax} networks, not {localNetworks.Count}");
            }
        }

        // Top to bottom, as the user reads the file.
        errors = [.. problems.OrderBy(LineOf)];
        return problems.Count == 0 ? new BootConfig(clusterName, token, expected, hostname, address, localNetworks) : null;

        // An empty value means "the default", so a commented-out template and "key=" read the same.
        (string Value, int Line)? Get(string key) => values.TryGetValue(key, out var entry) && entry.Value.Length > 0 ? entry : null;
    }

    /// <summary>Reads the file; an absent, unreadable or invalid one is an exception naming the problems.</summary>
    /// <remarks>
    /// An absent file is an error, not the defaults: the defaults are the open cluster, and a member
    /// whose copy went missing must not start admitting anyone.
    /// </remarks>
    public static BootConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new BootConfigException($"{path}: no such file");
        }

        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BootConfigException($"{path}: cannot read: {e.Message}");
        }

        return TryParse(text, out IReadOnlyList<string> errors)
            ?? throw new BootConfigException($"{path}: {string.Join("; ", errors)}");
    }

    /// <summary>"key=value   # a note": a '#' after white space starts a comment (no valid value holds white space).</summary>
    private static string WithoutNote(string value)
    {
        for (int i = 1; i < value.Length; i++)
        {
            if (value[i] == '#' && char.IsWhiteSpace(value[i - 1]))
            {
                return value[..i];
            }
        }

        return value;
    }

    private static int LineOf(string problem) =>
        problem.StartsWith("line ", StringComparison.Ordinal) && int.TryParse(problem.AsSpan(5, problem.IndexOf(':', StringComparison.Ordinal) - 5), NumberStyles.None, CultureInfo.InvariantCulture, out int line) ? line : 0;

    private static bool TryIPv4(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        // IPAddress.TryParse also takes "10" or "10.1" (inet_aton forms); a typo must not become an address.
        address = null;
        return DottedQuadPattern().IsMatch(text) && IPAddress.TryParse(text, out address) && address.AddressFamily == AddressFamily.InterNetwork;
    }

    /// <summary>Null when <paramref name="text"/> is a network local_networks takes, else why not.</summary>
    private static string? ParseLocalNetwork(string text)
    {
        string[] parts = text.Split('/');
        bool v4 = parts.Length == 2 && DottedQuadPattern().IsMatch(parts[0]);
        bool v6 = parts.Length == 2 && parts[0].Contains(':', StringComparison.Ordinal) && Ipv6Pattern().IsMatch(parts[0]);
        if ((!v4 && !v6) || !PrefixLengthPattern().IsMatch(parts[1]) || !IPNetwork.TryParse(text, out IPNetwork network))
        {
            return $"'{Shorten(text)}' is not a network such as 100.64.0.0/10 or fd7a:115c:a1e0::/48 (address/prefix length)";
        }

        int widest = v4 ? LocalNetworkPrefixMinIPv4 : LocalNetworkPrefixMinIPv6;
        if (network.PrefixLength < widest)
        {
            return $"'{text}' is too wide (a prefix length of at least {widest}: the firewall would let a good part of the internet in)";
        }

        // 10.1.2.3/8 would be taken as 10.0.0.0/8 by the firewall: say what is meant, so a typo in the
        // prefix length does not open more than the user thinks.
        return network.BaseAddress.Equals(IPAddress.Parse(parts[0])) ? null
            : $"'{text}' has host bits set: the network is {network}";
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex ClusterNamePattern();

    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex HostnamePattern();

    [GeneratedRegex(@"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")]
    private static partial Regex DottedQuadPattern();

    [GeneratedRegex("^[0-9A-Fa-f:.]{2,45}$")]
    private static partial Regex Ipv6Pattern();

    [GeneratedRegex("^[0-9]{1,3}$")]
    private static partial Regex PrefixLengthPattern();
}
