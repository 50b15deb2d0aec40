// Owns: running the system commands the chaos suite drives (ip, nft): bounded, with their output in the
// error when one fails.
using System.Diagnostics;

namespace O3Storage.Chaos.Lan;

internal static class Shell
{
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Runs a command to its end; throws with its stderr when it fails, unless <paramref name="mayFail"/>.</summary>
    public static string Run(string file, IEnumerable<string> args, string? stdin = null, bool mayFail = false)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(info) ?? throw new InvalidOperationException($"{file} did not start");
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }

        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(CommandTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', info.ArgumentList)}: no end after {CommandTimeout.TotalSeconds} s");
        }

        if (process.ExitCode != 0 && !mayFail)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', info.ArgumentList)}: exit {process.ExitCode}: {stderr.Result.Trim()}");
        }

        return stdout.Result;
    }
}
