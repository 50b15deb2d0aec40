using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace O3Storage.Integration.Tests.Harness;

/// <summary>One real o3storage process; its stdout and stderr are kept for assertions and failure reports.</summary>
internal sealed partial class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private NodeProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public int Pid { get; private set; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <param name="binary">The o3storage to run; the published one by default.</param>
    public static NodeProcess Start(string name, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? binary = null)
    {
        var info = new ProcessStartInfo(binary ?? NodeBinary.Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach ((string variable, string value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[variable] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var node = new NodeProcess(name, process);
        process.OutputDataReceived += (_, e) => Append(node._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(node._stderr, e.Data);
        process.Start();
        node.Pid = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>Runs the binary to completion (bounded) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToExitAsync(IEnumerable<string> args, TimeSpan timeout)
    {
        using NodeProcess node = Start("cli", args);
        int exitCode = await node.WaitForExitAsync(timeout);
        return (exitCode, node.Stdout, node.Stderr);
    }

    public void Kill()
    {
        KillWithoutWaiting();
        _process.WaitForExit(10_000);
    }

    /// <summary>SIGKILL, returning at once: several nodes die within microseconds of each other, as on a power cut.</summary>
    public void KillWithoutWaiting()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }
    }

    public void Terminate()
    {
        if (!_process.HasExited && SendSignal(_process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill(SIGTERM) of {Name} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"{Name} did not exit within {timeout.TotalSeconds} s\n{Stdout}\n{Stderr}");
        }

        _process.WaitForExit(); // drains the asynchronous output readers
        return _process.ExitCode;
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private static void Append(StringBuilder buffer, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (buffer)
        {
            buffer.AppendLine(line);
        }
    }

    public const int SigTerm = 15;

    public const int SigUsr1 = 10;

    /// <summary>SIGUSR2 (12 on x86-64 and arm64 Linux).</summary>
    public const int SigUsr2 = 12;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    /// <summary>kill(2): 0, or -1 with the error in Marshal.GetLastPInvokeError.</summary>
    internal static partial int SendSignal(int pid, int signal);
}
