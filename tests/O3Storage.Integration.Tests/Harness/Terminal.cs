using System.Diagnostics;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests.Harness;

/// <summary>
/// A real terminal for programs with live views: a tmux server of the test's own (its own socket, so
/// neither a user's tmux nor its environment is involved), one window per program, read back with
/// capture-pane as a person would see it. The server is killed on dispose.
/// </summary>
internal sealed class Terminal(ITestOutputHelper output) : IDisposable
{
    private readonly string _socket = $"o3-it-{Guid.NewGuid():N}"[..20];

    /// <summary>Runs <paramref name="command"/> (a shell line) in a new 160x40 session; the pane stays after it exits.</summary>
    public void Start(string session, string command) =>
        Tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "40", $"{command}; echo '[exited '$?']'; sleep 600");

    /// <summary>What the pane shows now.</summary>
    public string Capture(string session) => Tmux("capture-pane", "-p", "-t", session);

    /// <summary>Looks at the pane every 100 ms until <paramref name="done"/> holds for what it shows; every distinct screen is handed to <paramref name="seen"/>.</summary>
    public async Task<string> WaitForAsync(string session, string what, Func<string, bool> done, Action<string>? seen = null, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        string last = string.Empty;
        while (clock.Elapsed < (timeout ?? TestCluster.WaitTimeout))
        {
            string screen = Capture(session);
            if (screen != last)
            {
                seen?.Invoke(screen);
                last = screen;
            }

            if (done(screen))
            {
                output.WriteLine($"{clock.ElapsedMilliseconds,6} ms: {session} shows {what}");
                return screen;
            }

            await Task.Delay(100);
        }

        output.WriteLine($"--- {session} at the timeout ---\n{last}");
        throw new TimeoutException($"{session} did not show {what} within {timeout ?? TestCluster.WaitTimeout}");
    }

    private string Tmux(params string[] args)
    {
        var info = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-L");
        info.ArgumentList.Add(_socket);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["TERM"] = "xterm-256color";
        using Process process = Process.Start(info) ?? throw new InvalidOperationException("could not start tmux");
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(10_000))
        {
            process.Kill();
            throw new TimeoutException($"tmux {string.Join(' ', args)} did not finish");
        }

        Assert.True(process.ExitCode == 0, $"tmux {string.Join(' ', args)} exited {process.ExitCode}: {stderr}");
        return stdout;
    }

    public void Dispose()
    {
        try
        {
            Tmux("kill-server");
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or Xunit.Sdk.XunitException)
        {
            output.WriteLine($"tmux kill-server: {e.Message}");
        }
    }
}
