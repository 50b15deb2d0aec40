using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests.Harness;

/// <summary>
/// Runs the guide's own command lines and scripts (tests/guide/, copied verbatim from the guide) with bash,
/// changed only in addresses (192.168.1.10N becomes the test cluster's node N) and, for the scripts that
/// loop forever, made to stop by themselves (a bounded number of rounds, short sleeps, no mail).
/// </summary>
internal static partial class GuideShell
{
    /// <summary>The guide's addresses mapped onto <paramref name="cluster"/>: 192.168.1.10N is node N, and so is 192.168.1.10$i with i = N.</summary>
    public static string Localize(string text, TestCluster cluster) =>
        GuideAddress().Replace(text, match => cluster.Ip(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)))
            .Replace("192.168.1.10$", cluster.Ip(0)[..^1] + "$", StringComparison.Ordinal);

    /// <summary>A guide script, localized, its endless loop bounded to <paramref name="rounds"/> rounds of at most a second's sleep, and its mail replaced by printing.</summary>
    public static string Script(string name, TestCluster cluster, int rounds)
    {
        string text = File.ReadAllText(Path.Combine(NodeBinary.RepositoryRoot, "tests", "guide", name));
        text = Localize(text, cluster)
            .Replace("while true; do", $"for _round in $(seq 1 {rounds}); do", StringComparison.Ordinal)
            .Replace("clear\n", "\n", StringComparison.Ordinal);
        text = Sleep().Replace(text, "sleep 1");
        return MailPipe().Replace(text, "cat");
    }

    /// <summary>Runs <paramref name="script"/> with bash (bounded like any tool the tests run); its exit code and what it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string script, ITestOutputHelper output)
    {
        (int exitCode, string stdout, string stderr) = await Tool.TryRunAsync(output, new Dictionary<string, string?>(), "bash", "-c", script);
        output.WriteLine(stdout + stderr);
        return (exitCode, stdout + stderr);
    }

    [GeneratedRegex(@"192\.168\.1\.10(\d)")]
    private static partial Regex GuideAddress();

    [GeneratedRegex(@"sleep \d+")]
    private static partial Regex Sleep();

    [GeneratedRegex(@"mail -s ""[^""]*"" \$ALERT_EMAIL")]
    private static partial Regex MailPipe();
}
