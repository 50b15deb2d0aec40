using System.Diagnostics;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests.Harness;

/// <summary>
/// One powercut-fs (chaos/powercut-fs) mounted at each node's data directory: writes stay in memory until
/// fsync'd, and <see cref="CutAll"/> throws away what each one had not made durable, as a power cut does,
/// then mounts them again. Nodes must be dead before a cut (the file system detaches itself, lazily).
/// </summary>
internal sealed class PowerCutDisks : IDisposable
{
    public static readonly TimeSpan MountTimeout = TimeSpan.FromSeconds(20);

    private readonly ITestOutputHelper _output;
    private readonly Dictionary<int, Disk> _disks = [];

    public PowerCutDisks(ITestOutputHelper output) => _output = output;

    public static string BinaryPath => Path.Combine(NodeBinary.RepositoryRoot, "artifacts", "powercut-fs", "powercut-fs");

    /// <summary>Mounts a fresh powercut-fs at <paramref name="directory"/> (created if missing) for node <paramref name="node"/>.</summary>
    public void Mount(int node, string directory, params string[] options)
    {
        if (!File.Exists(BinaryPath))
        {
            throw new InvalidOperationException($"no powercut-fs at {BinaryPath}: run 'make powercut-fs' (make test builds it)");
        }

        Directory.CreateDirectory(directory);
        var disk = new Disk(directory, options, _output);
        _disks[node] = disk;
        disk.WaitMounted(1);
    }

    /// <summary>The power cut: every disk forgets what was not durable (nodes already dead), then is back.</summary>
    public void CutAll()
    {
        var before = _disks.Values.ToDictionary(d => d, d => d.Generation);
        foreach (Disk disk in _disks.Values)
        {
            disk.Cut();
        }

        foreach (Disk disk in _disks.Values)
        {
            disk.WaitMounted(before[disk] + 1);
            _output.WriteLine($"{disk.Directory}: {disk.LastCut}");
        }
    }

    /// <summary>
    /// From now on node <paramref name="node"/>'s card lies (powercut-fs --ignore-data-fsync, by SIGUSR2):
    /// fsync keeps file sizes and names but not the bytes written; write-through writes stay durable.
    /// </summary>
    public void StartLying(int node) => _disks[node].StartLying();

    /// <summary>True once node <paramref name="node"/>'s file system has ignored a flush of file data.</summary>
    public bool HasLied(int node) => _disks[node].HasLine("lying:");

    public void Dispose()
    {
        foreach (Disk disk in _disks.Values)
        {
            disk.Dispose();
        }
    }

    private sealed class Disk : IDisposable
    {
        private readonly Process _process;
        private readonly object _gate = new();
        private readonly List<string> _lines = [];

        private readonly ITestOutputHelper _output;

        public Disk(string directory, string[] options, ITestOutputHelper output)
        {
            _output = output;
            Directory = directory;
            var info = new ProcessStartInfo(BinaryPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(directory);
            foreach (string option in options)
            {
                info.ArgumentList.Add(option);
            }

            _process = Process.Start(info) ?? throw new InvalidOperationException("powercut-fs did not start");
            _process.OutputDataReceived += (_, e) => Add(e.Data);
            _process.ErrorDataReceived += (_, e) => Add(e.Data);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public string Directory { get; }

        public int Generation { get; private set; }

        public string LastCut { get; private set; } = "";

        private void Add(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_gate)
            {
                _lines.Add(line);
                if (line.StartsWith("cut ", StringComparison.Ordinal))
                {
                    LastCut = line;
                }
                else if (line.StartsWith("mounted ", StringComparison.Ordinal))
                {
                    Generation = int.Parse(line["mounted ".Length..], System.Globalization.CultureInfo.InvariantCulture);
                }

                Monitor.PulseAll(_gate);
            }
        }

        public void WaitMounted(int generation)
        {
            var clock = Stopwatch.StartNew();
            lock (_gate)
            {
                while (Generation < generation)
                {
                    if (_process.HasExited || clock.Elapsed > MountTimeout)
                    {
                        throw new InvalidOperationException($"powercut-fs at {Directory} did not mount (generation {generation}): {string.Join('\n', _lines)}");
                    }

                    Monitor.Wait(_gate, TimeSpan.FromMilliseconds(100));
                }
            }
        }

        public bool HasLine(string prefix)
        {
            lock (_gate)
            {
                return _lines.Any(line => line.StartsWith(prefix, StringComparison.Ordinal));
            }
        }

        public void StartLying()
        {
            if (NodeProcess.SendSignal(_process.Id, NodeProcess.SigUsr2) != 0)
            {
                throw new InvalidOperationException($"kill(SIGUSR2) of powercut-fs at {Directory} failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
            }
        }

        /// <summary>SIGUSR1: powercut-fs detaches itself, aborts its connection, forgets, mounts again.</summary>
        public void Cut()
        {
            if (NodeProcess.SendSignal(_process.Id, NodeProcess.SigUsr1) != 0)
            {
                throw new InvalidOperationException($"kill(SIGUSR1) of powercut-fs at {Directory} failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                NodeProcess.SendSignal(_process.Id, NodeProcess.SigTerm); // unmounts and ends
                if (!_process.WaitForExit(5000))
                {
                    _process.Kill();
                }
            }

            Tool.TryRunAsync(_output, new Dictionary<string, string?>(), "umount", "-l", Directory).GetAwaiter().GetResult(); // only if it was left mounted
            _process.Dispose();
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
