// Owns: o3storage.txt, the one file a user may edit on the card's FAT partition before first boot
// (cluster name, join token, expected node count, hostname, static address), parsed and validated.
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
public sealed partial record BootConfig(string ClusterName, string? JoinTokenValue, int ExpectedNodes, string? Hostname, StaticAddress? Address)
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

    public static BootConfig Default { get; } = new(DefaultClusterName, null, DefaultExpectedNodes, null, null);

    /// <summary>The token adverts and joins are proved with: the file's, or the open one.</summary>
    public string JoinToken => JoinTokenValue ?? OpenJoinToken;

    public bool IsOpen => JoinTokenValue is null;

    public static readonly IReadOnlyList<string> Keys = ["cluster_name", "join_token", "expected_nodes", "hostname", "address", "gateway", "dns"];

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

        // Top to bottom, as the user reads the file.
        errors = [.. problems.OrderBy(LineOf)];
        return problems.Count == 0 ? new BootConfig(clusterName, token, expected, hostname, address) : null;

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

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex ClusterNamePattern();

    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex HostnamePattern();

    [GeneratedRegex(@"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")]
    private static partial Regex DottedQuadPattern();
}
