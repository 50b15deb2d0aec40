// Owns: one node process of a chaos run, started in its namespace, with its log in the run's directory;
// kill -9, SIGSTOP and SIGCONT of it; its apply trace beside the log.
// Assumes: `ip netns exec` execs the node in place, so the process we start is the node itself.
using System.Diagnostics;

namespace O3Storage.Chaos.Run;

internal sealed class ChaosNode(int number, string ns, string ip, string binary, string dataDirectory, string logDirectory, string joinTokenFile) : IDisposable
{
    private Process? _process;
    private int _starts;

    public int Number => number;

    public string Ip => ip;

    public string DataDirectory => dataDirectory;

    public bool Running => _process is { HasExited: false };

    /// <summary>Where the node records every entry it applies (O3STORAGE_APPLY_TRACE), across all its starts.</summary>
    public string ApplyTrace => Path.Combine(logDirectory, $"node-{number}.apply");

    public void Start(IEnumerable<string> roleArgs)
    {
        if (Running)
        {
            throw new InvalidOperationException($"node {number} is already running");
        }

        _starts++;
        string log = Path.Combine(logDirectory, $"node-{number}.log");
        var info = new ProcessStartInfo("ip")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["O3STORAGE_APPLY_TRACE"] = ApplyTrace },
        };
        foreach (string arg in (string[])["netns", "exec", ns, binary, "--ip", ip, "--port", "8080", "--data", dataDirectory, "--device-size", "300M", "--board", "none", "--join-token-file", joinTokenFile, .. roleArgs])
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException($"node {number} did not start");
        var writer = new StreamWriter(log, append: true) { AutoFlush = true };
        writer.WriteLine($"===== start {_starts}: {string.Join(' ', info.ArgumentList)}");
        object gate = new();
        void Line(string? text)
        {
            if (text is not null)
            {
                lock (gate)
                {
                    writer.WriteLine(text);
                }
            }
        }

        _process.OutputDataReceived += (_, e) => Line(e.Data);
        _process.ErrorDataReceived += (_, e) => Line(e.Data);
        _process.Exited += (_, _) => { lock (gate) { writer.Dispose(); } };
        _process.EnableRaisingEvents = true;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public void Kill()
    {
        SignalKill();
        WaitForExit();
    }

    /// <summary>kill -9 without waiting: several nodes die at the same moment (then <see cref="WaitForExit"/>).</summary>
    public void SignalKill() => Signal(9);

    public void WaitForExit() => _process?.WaitForExit(TimeSpan.FromSeconds(10));

    public void Pause() => Signal(19);

    public void Continue() => Signal(18);

    private void Signal(int signal)
    {
        if (_process is { HasExited: false } process)
        {
            _ = Interop.Kill(process.Id, signal);
        }
    }

    public void Dispose()
    {
        Continue();
        Kill();
        _process?.Dispose();
    }
}
