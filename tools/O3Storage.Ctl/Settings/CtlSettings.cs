// Owns: where o3ctl finds the cluster and its key: flags first, then the environment (O3CTL_ENDPOINT,
// O3CTL_KEY, O3CTL_CA_CERT), then the config file (O3CTL_CONFIG, else $XDG_CONFIG_HOME/o3ctl/config,
// else ~/.config/o3ctl/config), then 127.0.0.1:8080 (`make run`'s first node). Pure: the environment
// and the file's text come in, so every rule is tested without a home directory.
namespace O3Storage.Ctl.Settings;

/// <summary>What o3ctl connects with.</summary>
/// <param name="Endpoints">Nodes to ask first, as base URLs (http://ip:port), in order.</param>
/// <param name="Key">The API key sent as a bearer token, or null.</param>
/// <param name="CaCertificate">A PEM file of the cluster CA to trust for https endpoints, or null.</param>
/// <param name="Warnings">Things worth telling the user (a key in a file others can read).</param>
public sealed record CtlSettings(IReadOnlyList<Uri> Endpoints, string? Key, string? CaCertificate, IReadOnlyList<string> Warnings)
{
    public const string DefaultEndpoint = "127.0.0.1:8080";
    public const int DefaultPort = 8080;

    public const string EndpointVariable = "O3CTL_ENDPOINT";
    public const string KeyVariable = "O3CTL_KEY";
    public const string CaVariable = "O3CTL_CA_CERT";
    public const string ConfigVariable = "O3CTL_CONFIG";

    private static readonly string[] s_configNames = ["endpoint", "key", "ca_cert"];

    /// <summary>The config file o3ctl reads when none is named.</summary>
    public static string DefaultConfigPath(Func<string, string?> environment)
    {
        string? xdg = environment("XDG_CONFIG_HOME");
        string home = environment("HOME") ?? "/";
        return Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(home, ".config") : xdg, "o3ctl", "config");
    }

    /// <summary>
    /// Resolves the settings. <paramref name="configText"/> is the config file's text (null: no file), and
    /// <paramref name="configReadableByOthers"/> whether its mode lets group or others read it.
    /// </summary>
    /// <exception cref="CtlException">A malformed endpoint or config line (exit code Usage).</exception>
    public static CtlSettings Resolve(
        IReadOnlyList<string> endpointFlags, string? keyFlag, string? caFlag, Func<string, string?> environment,
        string? configPath, string? configText, bool configReadableByOthers)
    {
        Dictionary<string, string> config = configText is null ? [] : ParseConfig(configText, configPath ?? "config");
        var warnings = new List<string>();
        string endpoints = endpointFlags.Count > 0 ? string.Join(',', endpointFlags)
            : NonEmpty(environment(EndpointVariable)) ?? config.GetValueOrDefault("endpoint") ?? DefaultEndpoint;
        string? key = NonEmpty(keyFlag) ?? NonEmpty(environment(KeyVariable)) ?? config.GetValueOrDefault("key");
        if (keyFlag is null && environment(KeyVariable) is null && config.ContainsKey("key") && configReadableByOthers)
        {
            warnings.Add($"{configPath} holds a key and others may read it: chmod 600 {configPath}");
        }

        string? ca = NonEmpty(caFlag) ?? NonEmpty(environment(CaVariable)) ?? config.GetValueOrDefault("ca_cert");
        Uri[] parsed = [.. endpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseEndpoint)];
        if (parsed.Length == 0)
        {
            throw new CtlException(ExitCode.Usage, "no endpoint given", $"give a node as --endpoint 192.168.1.101 (port {DefaultPort} unless named)");
        }

        return new CtlSettings(parsed, key, ca, warnings);
    }

    /// <summary>A node given as ip, ip:port, host, [v6]:port or a full http(s) URL, as a base URL.</summary>
    public static Uri ParseEndpoint(string text)
    {
        string withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https")
            || uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new CtlException(ExitCode.Usage, $"'{text}' is not a node endpoint", "give ip, ip:port or http(s)://ip:port, e.g. 192.168.1.101 or https://192.168.1.101:8080");
        }

        // A port left out means the node's API port, not the scheme's.
        bool portGiven = text.Contains("://", StringComparison.Ordinal)
            ? text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..].TrimEnd('/').Split(']')[^1].Contains(':', StringComparison.Ordinal)
            : text.Split(']')[^1].Contains(':', StringComparison.Ordinal);
        return new UriBuilder(uri.Scheme, uri.Host, portGiven ? uri.Port : DefaultPort).Uri;
    }

    /// <summary>The config file: <c>name = value</c> lines, <c>#</c> comments, blank lines.</summary>
    public static Dictionary<string, string> ParseConfig(string text, string path)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            int equals = line.IndexOf('=', StringComparison.Ordinal);
            string name = equals < 0 ? line : line[..equals].Trim();
            if (equals < 0 || !s_configNames.Contains(name))
            {
                // Never echo the line: a mistyped name may stand before a key.
                throw new CtlException(ExitCode.Usage, equals < 0 ? $"{path} line {i + 1} has no '='" : $"{path} line {i + 1}: '{name}' is not a setting",
                    $"lines are name = value with name one of {string.Join(", ", s_configNames)}");
            }

            values[name] = line[(equals + 1)..].Trim();
        }

        return values;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
