// Owns: one node's data directory as a powercut-fs (chaos/powercut-fs): mounted before the node first
// starts, cut (SIGUSR1: what was not flushed is dropped, the last unflushed write torn at a seeded point,
// then it mounts itself again) while the node is dead, unmounted at the end of the run.
// Assumes: root (FUSE with allow_other); the node is dead before every cut.
using System.Diagnostics;
using O3Storage.Chaos.Lan;

namespace O3Storage.Chaos.Run;

internal sealed class PowerCutDisk : IDisposable
{
    public static readonly TimeSpan MountTimeout = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly object _gate = new();
    private readonly List<string> _lines = [];
    private int _generation;

    public PowerCutDisk(string binary, string directory, int tearSeed)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
        var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])[directory, "--tear-seed", tearSeed.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("powercut-fs did not start");
        _process.OutputDataReceived += (_, e) => Add(e.Data);
        _process.ErrorDataReceived += (_, e) => Add(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitMounted(1);
    }

    public string Directory { get; }

    /// <summary>What the last cut dropped, as powercut-fs said it ("cut N: ...").</summary>
    public string LastCut
    {
        get
        {
            lock (_gate)
            {
                return _lines.LastOrDefault(l => l.StartsWith("cut ", StringComparison.Ordinal)) ?? "";
            }
        }
    }

    /// <summary>The power goes out and comes back: returns once the file system is mounted again.</summary>
    public void Cut()
    {
        int next = Volatile.Read(ref _generation) + 1;
        if (Interop.Kill(_process.Id, 10) != 0) // SIGUSR1
        {
            throw new InvalidOperationException($"kill(SIGUSR1) of powercut-fs at {Directory} failed");
        }

        WaitMounted(next);
    }

    private void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _lines.Add(line);
            if (line.StartsWith("mounted ", StringComparison.Ordinal) && int.TryParse(line.AsSpan("mounted ".Length), System.Globalization.CultureInfo.InvariantCulture, out int generation))
            {
                _generation = generation;
            }

            Monitor.PulseAll(_gate);
        }
    }

    private void WaitMounted(int generation)
    {
        var clock = Stopwatch.StartNew();
        lock (_gate)
        {
            while (_generation < generation)
            {
                if (_process.HasExited || clock.Elapsed > MountTimeout)
                {
                    throw new InvalidOperationException($"powercut-fs at {Directory} did not mount (generation {generation}): {string.Join(" | ", _lines)}");
                }

                Monitor.Wait(_gate, TimeSpan.FromMilliseconds(100));
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _ = Interop.Kill(_process.Id, 15); // SIGTERM: it unmounts and ends
            if (!_process.WaitForExit(5000))
            {
                _process.Kill();
            }
        }

        Shell.Run("umount", ["-l", Directory], mayFail: true); // only if it was left mounted
        _process.Dispose();
    }
}
