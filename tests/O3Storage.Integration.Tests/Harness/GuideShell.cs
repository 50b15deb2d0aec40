using System.Diagnostics;
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
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>The guide's addresses mapped onto <paramref name="cluster"/>: 192.168.1.10N is node N.</summary>
    public static string Localize(string text, TestCluster cluster) =>
        GuideAddress().Replace(text, match => cluster.Ip(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));

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

    /// <summary>Runs <paramref name="script"/> with bash; its exit code and what it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string script, ITestOutputHelper output)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        using Process process = Process.Start(info) ?? throw new InvalidOperationException("could not start bash");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the guide's lines did not finish within {Timeout}: {script}");
        }

        string printed = await stdout + await stderr;
        output.WriteLine($"$ {script.Split('\n')[0]}{(script.Contains('\n') ? " ..." : string.Empty)}\n{printed}");
        return (process.ExitCode, printed);
    }

    [GeneratedRegex(@"192\.168\.1\.10(\d)")]
    private static partial Regex GuideAddress();

    [GeneratedRegex(@"sleep \d+")]
    private static partial Regex Sleep();

    [GeneratedRegex(@"mail -s ""[^""]*"" \$ALERT_EMAIL")]
    private static partial Regex MailPipe();
}
