// The chaos suite's command line: `run` (seeded runs, each on its own network of namespaces: the runner
// builds the network, then runs itself inside the client namespace as `run-one`) and `check` (judges a
// recorded history again).
using System.Diagnostics;
using O3Storage.Chaos.Checking;
using O3Storage.Chaos.History;
using O3Storage.Chaos.Lan;
using O3Storage.Chaos.Run;

namespace O3Storage.Chaos;

internal static class Program
{
    private static readonly string s_usage = RunOptionsParser.Usage + "\n       o3-chaos check HISTORY.jsonl [--limit SECONDS]";

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine(s_usage);
            return args.Length == 0 ? 2 : 0;
        }

        return args[0] switch
        {
            "check" => Check(args[1..]),
            "run" => Run(args[1..]),
            "run-one" => RunOne(args[1..]),
            _ => Fail($"unknown command '{args[0]}'"),
        };
    }

    private static int Check(string[] args)
    {
        double limitSeconds = 60;
        string? path = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--limit" && i + 1 < args.Length && double.TryParse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture, out limitSeconds) && limitSeconds > 0)
            {
                i++;
            }
            else if (args[i].StartsWith('-') || path is not null)
            {
                return Fail($"unexpected argument '{args[i]}'");
            }
            else
            {
                path = args[i];
            }
        }

        if (path is null)
        {
            return Fail("no history file given");
        }

        List<Operation> history;
        try
        {
            history = HistoryFile.Read(path);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return Fail(e.Message);
        }

        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(limitSeconds));
        CheckResult result = LinearizabilityChecker.Check(history, limit.Token);
        Console.Write(result.Describe());
        return result.Verdict == Verdict.Linearizable ? 0 : 1;
    }

    private static int Run(string[] args)
    {
        RunOptions? options = RunOptionsParser.TryParse(args, out string? error);
        if (options is null)
        {
            return Fail(error!);
        }

        if (Environment.UserName != "root")
        {
            return Fail("the chaos suite builds network namespaces: run it as root");
        }

        Directory.CreateDirectory(options.OutputDirectory);
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        string[] launcher = Path.GetFileNameWithoutExtension(self) == "dotnet" ? [self, Path.Combine(AppContext.BaseDirectory, "o3-chaos.dll")] : [self];
        var codes = new List<(int Seed, int Code)>();
        TimeSpan limit = options.Duration + ChaosRun.FormationTimeout * 2 + ChaosRun.RecoveryTimeout + options.CheckLimit + TimeSpan.FromMinutes(2);
        for (int i = 0; i < options.Runs; i++)
        {
            int seed = options.Seed + i;
            using var lan = new ChaosLan(options.Nodes);
            lan.Up();
            var info = new ProcessStartInfo("ip") { UseShellExecute = false };
            foreach (string arg in (string[])["netns", "exec", lan.ClientNamespace, .. launcher, "run-one", .. RunOptionsParser.ToArgs(options, seed)])
            {
                info.ArgumentList.Add(arg);
            }

            using Process run = Process.Start(info)!;
            if (!run.WaitForExit(limit))
            {
                run.Kill(entireProcessTree: true);
                Console.WriteLine($"seed {seed}: no end after {limit.TotalSeconds:0} s; stopped");
                codes.Add((seed, 4));
                continue;
            }

            codes.Add((seed, run.ExitCode));
        }

        string summary = $"chaos: {codes.Count} runs, {codes.Count(c => c.Code == 0)} linearizable, "
            + $"{codes.Count(c => c.Code == 1)} anomalies or unknown [{string.Join(' ', codes.Where(c => c.Code == 1).Select(c => c.Seed))}], "
            + $"{codes.Count(c => c.Code == 3)} where the cluster did not form or come back by itself [{string.Join(' ', codes.Where(c => c.Code == 3).Select(c => c.Seed))}], "
            + $"{codes.Count(c => c.Code is not (0 or 1 or 3))} where the harness failed [{string.Join(' ', codes.Where(c => c.Code is not (0 or 1 or 3)).Select(c => c.Seed))}]";
        Console.WriteLine(summary);
        File.AppendAllText(Path.Combine(options.OutputDirectory, "summary.txt"), $"{DateTimeOffset.UtcNow:O} seeds {options.Seed}..{options.Seed + options.Runs - 1} faults {string.Join(',', options.Faults)}: {summary}\n");
        if (!options.ExpectLinearizable)
        {
            // A control run: the cluster was set up to be wrong, and every run must have caught it.
            bool caught = codes.All(c => c.Code == 1);
            Console.WriteLine(caught ? "chaos control: every run found the anomaly it should" : "chaos control: FAILED: a run of a cluster set up to be wrong found nothing (or did not finish)");
            return caught ? 0 : 1;
        }

        return codes.All(c => c.Code == 0) ? 0 : 1;
    }

    private static int RunOne(string[] args)
    {
        RunOptions? options = RunOptionsParser.TryParse(args, out string? error);
        if (options is null)
        {
            return Fail(error!);
        }

        try
        {
            return new ChaosRun(options, options.Seed, new ChaosLan(options.Nodes)).RunAsync().GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            // The harness itself failed (a command, the network): not a verdict on the cluster.
            Console.WriteLine($"seed {options.Seed}: the run failed: {e}");
            return 4;
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"o3-chaos: {message}");
        Console.Error.WriteLine(s_usage);
        return 2;
    }
}
