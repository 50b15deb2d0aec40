using System.Diagnostics;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests.Harness;

/// <summary>
/// Runs the guide's admin-machine scripts (ssh, scp and systemctl against each node) on a test cluster,
/// as written but for addresses and the backup root: the shims in Harness/fleet put each ssh command in a
/// mount namespace where /opt/o3storage is that node's (its binary, which it runs when started) and
/// /opt/o3storage/data its data directory, and hand `systemctl
/// stop|start o3storage` and `./o3storage ARGS` to this class, which acts on the node's process while the
/// script waits. Bounded like every tool the tests run.
/// </summary>
internal sealed class FleetShell
{
    private readonly TestCluster _cluster;
    private readonly ITestOutputHelper _output;
    private readonly string _fleet;
    private readonly Dictionary<int, string[]> _unit = [];

    public FleetShell(TestCluster cluster, ITestOutputHelper output, int nodes)
    {
        _cluster = cluster;
        _output = output;
        _fleet = Path.Combine(cluster.Root, "fleet");
        BackupRoot = Path.Combine(cluster.Root, "backup");
        string bin = Path.Combine(_fleet, "bin");
        Directory.CreateDirectory(bin);
        Directory.CreateDirectory(Path.Combine(_fleet, "requests"));
        Directory.CreateDirectory(Path.Combine(_fleet, "hosts"));
        foreach (string shim in Directory.GetFiles(Path.Combine(NodeBinary.RepositoryRoot, "tests", "O3Storage.Integration.Tests", "Harness", "fleet")))
        {
            string copy = Path.Combine(bin, Path.GetFileName(shim));
            File.Copy(shim, copy, overwrite: true);
            File.SetUnixFileMode(copy, (UnixFileMode)0b111_101_101);
        }

        for (int node = 1; node <= nodes; node++)
        {
            File.WriteAllText(Path.Combine(_fleet, "hosts", cluster.Ip(node)), node.ToString(System.Globalization.CultureInfo.InvariantCulture));

            // The node's /opt/o3storage: the binary it runs (a copy it may replace, as a rolling update does).
            string opt = Path.Combine(_fleet, $"opt-{node}");
            Directory.CreateDirectory(Path.Combine(opt, "data"));
            File.Copy(NodeBinary.Path, Path.Combine(opt, "o3storage"), overwrite: true);
            cluster.Binaries[node] = Path.Combine(opt, "o3storage");
        }
    }

    /// <summary>Called before each request is carried out, with the node and the request's verb (stop, start, run).</summary>
    public Func<int, string, Task>? Observe { get; set; }

    /// <summary>Where the guide's /backup/o3storage is.</summary>
    public string BackupRoot { get; }

    /// <summary>What `systemctl start o3storage` runs on <paramref name="node"/> beyond its address and data (the unit's options); none by default.</summary>
    public void SetUnit(int node, params string[] args) => _unit[node] = args;

    /// <summary>The guide's script text with its addresses and /backup localized.</summary>
    public string Localize(string script) =>
        GuideShell.Localize(script, _cluster).Replace("/backup/o3storage", Path.Combine(BackupRoot, "o3storage"), StringComparison.Ordinal);

    /// <summary>Runs <paramref name="script"/> (already localized) with bash and the shims first on PATH, carrying out its requests meanwhile.</summary>
    public async Task<(int ExitCode, string Output)> RunAsync(string script, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory ?? _cluster.Root };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        info.Environment["PATH"] = $"{Path.Combine(_fleet, "bin")}:{Environment.GetEnvironmentVariable("PATH")}";
        info.Environment["FLEET"] = _fleet;
        info.Environment["FLEET_ROOT"] = _cluster.Root;
        using Process process = Process.Start(info) ?? throw new InvalidOperationException("could not start bash");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            while (!process.HasExited)
            {
                await ServeRequestsAsync();
                await Task.WhenAny(process.WaitForExitAsync(timeout.Token), Task.Delay(50, timeout.Token));
            }
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the script ran longer than 5 minutes:\n{script}");
        }

        await process.WaitForExitAsync();
        string text = await stdout + await stderr;
        _output.WriteLine($"$ {script}\n-> {process.ExitCode}\n{text}");
        return (process.ExitCode, text);
    }

    private async Task ServeRequestsAsync()
    {
        foreach (string request in Directory.GetFiles(Path.Combine(_fleet, "requests"), "*.req").Order(StringComparer.Ordinal))
        {
            int node = int.Parse(Path.GetFileName(request).Split('.')[0], System.Globalization.CultureInfo.InvariantCulture);
            string[] words = File.ReadAllLines(request);
            if (Observe is { } observe)
            {
                await observe(node, words[0]);
            }

            switch (words[0])
            {
                case "stop" when _cluster.TryProcess(node) is { } running:
                    running.Terminate();
                    await running.WaitForExitAsync(TimeSpan.FromSeconds(30));
                    break;
                case "stop":
                    break;
                case "start":
                    _cluster.Start(node, _unit.GetValueOrDefault(node, []));
                    break;
                case "run":
                    _cluster.Start(node, [.. WithoutAddress(words.Skip(1))]);
                    break;
                default:
                    throw new InvalidOperationException($"unknown request {string.Join(' ', words)}");
            }

            File.Delete(request);
        }
    }

    /// <summary>The arguments without --ip and --port (the harness gives every node its own).</summary>
    private static IEnumerable<string> WithoutAddress(IEnumerable<string> args)
    {
        using IEnumerator<string> arg = args.GetEnumerator();
        while (arg.MoveNext())
        {
            if (arg.Current is "--ip" or "--port")
            {
                arg.MoveNext();
                continue;
            }

            yield return arg.Current;
        }
    }
}
