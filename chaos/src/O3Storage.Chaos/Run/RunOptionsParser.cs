// Owns: reading `o3-chaos run` flags into RunOptions, with a clear error for anything it does not know.
using System.Globalization;
using O3Storage.Chaos.Nemesis;

namespace O3Storage.Chaos.Run;

internal static class RunOptionsParser
{
    public const string Usage = """
        usage: o3-chaos run [--seed N] [--runs COUNT] [--nodes 3|5] [--clients N] [--keys N]
                            [--duration SECONDS] [--faults KIND,...] [--consistency strong|eventual]
                            [--expect linearizable|anomaly] [--binary PATH] [--powercut-fs PATH] [--out DIR]
          --seed N          the first run's seed (default 1); run i has seed N+i
          --runs COUNT      how many runs (default 1)
          --nodes           cluster size (default 3)
          --clients         concurrent clients (default 5)
          --keys            keys they share (default 3)
          --duration        seconds of workload and faults per run (default 20)
          --faults          of partition, isolate, bridge, kill, pause, powercut, replace
                            (default: all)
          --consistency     the cluster's consistency_level (default strong; eventual skips the
                            read barrier, so its stale reads show the checker at work)
          --expect          what every run must find (default linearizable; anomaly for a
                            control run that shows the checker failing a broken cluster)
          --binary          the node (default artifacts/linux-x64/o3storage)
          --powercut-fs     the power-cut file system each node's data lives on when the faults
                            include powercut (default artifacts/powercut-fs/powercut-fs)
          --out             where each run writes seed-N/ (default artifacts/chaos)
        """;

    public static RunOptions? TryParse(string[] args, out string? error)
    {
        var options = new RunOptions(1, 1, 3, 5, 3, TimeSpan.FromSeconds(20), RunOptions.AllFaults, "artifacts/linux-x64/o3storage", "artifacts/chaos");
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            string flag = args[i];
            if (i + 1 >= args.Length)
            {
                error = $"{flag} needs a value";
                return null;
            }

            string value = args[++i];
            bool ok = true;
            switch (flag)
            {
                case "--seed": ok = int.TryParse(value, CultureInfo.InvariantCulture, out int seed) && seed >= 0; options = options with { Seed = seed }; break;
                case "--runs": ok = int.TryParse(value, CultureInfo.InvariantCulture, out int runs) && runs is > 0 and <= 10_000; options = options with { Runs = runs }; break;
                case "--nodes": ok = int.TryParse(value, CultureInfo.InvariantCulture, out int nodes) && nodes is 3 or 5; options = options with { Nodes = nodes }; break;
                case "--clients": ok = int.TryParse(value, CultureInfo.InvariantCulture, out int clients) && clients is > 0 and <= 64; options = options with { Clients = clients }; break;
                case "--keys": ok = int.TryParse(value, CultureInfo.InvariantCulture, out int keys) && keys is > 0 and <= 100; options = options with { Keys = keys }; break;
                case "--duration": ok = int.TryParse(value, CultureInfo.InvariantCulture, out int seconds) && seconds is >= 5 and <= 3600; options = options with { Duration = TimeSpan.FromSeconds(seconds) }; break;
                case "--faults":
                    var kinds = new List<FaultKind>();
                    foreach (string name in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (!Enum.TryParse(name, ignoreCase: true, out FaultKind kind) || !Enum.IsDefined(kind))
                        {
                            error = $"--faults: unknown fault '{name}' ({string.Join(", ", RunOptions.AllFaults.Select(f => f.ToString().ToLowerInvariant()))})";
                            return null;
                        }

                        kinds.Add(kind);
                    }

                    ok = kinds.Count > 0;
                    options = options with { Faults = kinds };
                    break;
                case "--consistency": ok = value is "strong" or "eventual"; options = options with { Consistency = value }; break;
                case "--expect": ok = value is "linearizable" or "anomaly"; options = options with { ExpectLinearizable = value == "linearizable" }; break;
                case "--binary": options = options with { Binary = Path.GetFullPath(value) }; ok = File.Exists(value); break;
                case "--powercut-fs": options = options with { PowerCutFs = Path.GetFullPath(value) }; ok = File.Exists(value); break;
                case "--out": options = options with { OutputDirectory = Path.GetFullPath(value) }; break;
                default:
                    error = $"unknown flag '{flag}'";
                    return null;
            }

            if (!ok)
            {
                error = $"{flag} '{value}' is not valid";
                return null;
            }
        }

        if (!File.Exists(options.Binary))
        {
            error = $"no node binary at {options.Binary} (make publish)";
            return null;
        }

        if (options.CutsPower && !File.Exists(options.PowerCutFs))
        {
            error = $"no powercut-fs at {options.PowerCutFs} for the powercut fault (make powercut-fs), or leave powercut out of --faults";
            return null;
        }

        return options with { Binary = Path.GetFullPath(options.Binary), PowerCutFs = Path.GetFullPath(options.PowerCutFs), OutputDirectory = Path.GetFullPath(options.OutputDirectory) };
    }

    /// <summary>The flags that give <paramref name="options"/> back (for the run inside the client namespace).</summary>
    public static string[] ToArgs(RunOptions options, int seed) =>
    [
        "--seed", seed.ToString(CultureInfo.InvariantCulture), "--runs", "1",
        "--nodes", options.Nodes.ToString(CultureInfo.InvariantCulture),
        "--clients", options.Clients.ToString(CultureInfo.InvariantCulture),
        "--keys", options.Keys.ToString(CultureInfo.InvariantCulture),
        "--duration", ((int)options.Duration.TotalSeconds).ToString(CultureInfo.InvariantCulture),
        "--faults", string.Join(',', options.Faults.Select(f => f.ToString().ToLowerInvariant())),
        "--consistency", options.Consistency, "--binary", options.Binary, "--out", options.OutputDirectory,
        .. options.CutsPower ? ["--powercut-fs", options.PowerCutFs] : Array.Empty<string>(),
    ];
}
