using System.Diagnostics;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests.Harness;

/// <summary>Runs an unmodified S3 client (aws, rclone, s3cmd) as a process, bounded in time, and hands back what it printed.</summary>
internal static class Tool
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>Runs <paramref name="file"/>; fails the test unless it exits 0. Environment entries with a null value are removed.</summary>
    public static async Task<string> RunAsync(ITestOutputHelper output, IReadOnlyDictionary<string, string?> environment, string file, params string[] args)
    {
        (int exitCode, string stdout, string stderr) = await TryRunAsync(output, environment, file, args);
        Assert.True(exitCode == 0, $"{file} {string.Join(' ', args)} exited {exitCode}: {stderr}{stdout}");
        return stdout;
    }

    public static async Task<(int ExitCode, string Stdout, string Stderr)> TryRunAsync(ITestOutputHelper output, IReadOnlyDictionary<string, string?> environment, string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach ((string name, string? value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        using Process process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
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
            throw new TimeoutException($"{file} {string.Join(' ', args)} ran longer than {Timeout}");
        }

        output.WriteLine($"$ {file} {string.Join(' ', args)} -> {process.ExitCode}");
        return (process.ExitCode, await stdout, await stderr);
    }
}
