// Owns: one seeded chaos run inside the client namespace: form the cluster, run the clients while the
// nemesis applies the seed's schedule, heal, wait for the cluster to come back by itself, read every key
// through every node, and judge the whole history. Writes history.jsonl, schedule.txt and report.txt
// (and on failure the node logs) under seed-N/.
// Assumes: the network (ChaosLan) is up and this process runs in its client namespace.
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using O3Storage.Chaos.Checking;
using O3Storage.Chaos.History;
using O3Storage.Chaos.Lan;
using O3Storage.Chaos.Nemesis;

namespace O3Storage.Chaos.Run;

internal sealed class ChaosRun(RunOptions options, int seed, ChaosLan lan)
{
    public static readonly TimeSpan FormationTimeout = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(90);
    private const string Bucket = "chaos";

    private readonly List<ChaosNode> _nodes = [];
    private readonly TextWriter _log = Console.Out;

    /// <summary>0: linearizable; 1: an anomaly (or a verdict the checker could not reach); 3: the cluster did not form or come back.</summary>
    public async Task<int> RunAsync()
    {
        string directory = Path.Combine(options.OutputDirectory, $"seed-{seed}");
        Directory.CreateDirectory(directory);
        string data = Directory.CreateTempSubdirectory("o3-chaos-").FullName;
        List<Fault> schedule = Schedule.Make(seed, options.Nodes, (int)options.Duration.TotalMilliseconds, options.Faults);
        await File.WriteAllLinesAsync(Path.Combine(directory, "schedule.txt"), schedule.Select(f => f.ToString())).ConfigureAwait(false);
        bool keepLogs = true;
        try
        {
            for (int n = 1; n <= options.Nodes; n++)
            {
                _nodes.Add(new ChaosNode(n, lan.NodeNamespace(n), ChaosLan.Ip(n), options.Binary, Path.Combine(data, $"node-{n}"), directory));
            }

            if (!await FormAsync(directory).ConfigureAwait(false))
            {
                return Finish(directory, 3, "the cluster did not form");
            }

            var workload = new Workload(_nodes.Select(n => n.Ip).ToList(), Bucket, options.Keys, seed);
            using (var clients = new CancellationTokenSource(options.Duration))
            {
                Task running = workload.RunAsync(options.Clients, clients.Token);
                await NemesisAsync(schedule).ConfigureAwait(false);
                await running.ConfigureAwait(false);
            }

            HealAll();
            bool back = await WaitUntilAsync(AllActiveAsync, RecoveryTimeout).ConfigureAwait(false);
            await workload.FinalReadsAsync(client: 0).ConfigureAwait(false);
            IReadOnlyList<Operation> history = workload.History;
            HistoryFile.Write(Path.Combine(directory, "history.jsonl"), history);

            using var limit = new CancellationTokenSource(options.CheckLimit);
            var watch = Stopwatch.StartNew();
            CheckResult result = LinearizabilityChecker.Check(history, limit.Token);
            string report = $"seed {seed}: {result.Verdict} in {watch.ElapsedMilliseconds} ms; {Counts(history)}; faults: {string.Join("; ", schedule)}\n\n{result.Describe()}";
            await File.WriteAllTextAsync(Path.Combine(directory, "report.txt"), report).ConfigureAwait(false);

            List<Operation> finals = history.Where(o => o.Client == 0).ToList();
            int finalFailed = finals.Count(o => o.Outcome != OperationOutcome.Ok);
            if (!back || finalFailed > 0)
            {
                return Finish(directory, 3, $"the cluster did not come back by itself ({finalFailed} of {finals.Count} final reads failed); {result.Verdict}");
            }

            if (result.Verdict != Verdict.Linearizable)
            {
                return Finish(directory, 1, $"{result.Verdict} ({Counts(history)}): see report.txt");
            }

            keepLogs = false;
            return Finish(directory, 0, $"linearizable ({Counts(history)}; {schedule.Count} faults; checked in {watch.ElapsedMilliseconds} ms)");
        }
        finally
        {
            foreach (ChaosNode node in _nodes)
            {
                node.Dispose();
            }

            Directory.Delete(data, recursive: true);
            if (!keepLogs)
            {
                foreach (string log in Directory.GetFiles(directory, "node-*.log"))
                {
                    File.Delete(log);
                }
            }
        }
    }

    private int Finish(string directory, int code, string line)
    {
        _log.WriteLine($"seed {seed}: {line}");
        File.AppendAllText(Path.Combine(directory, "result.txt"), $"{code} {line}\n");
        return code;
    }

    private static string Counts(IReadOnlyList<Operation> history) =>
        $"{history.Count} operations: {history.Count(o => o.Outcome == OperationOutcome.Ok)} ok, {history.Count(o => o.Outcome == OperationOutcome.Unknown)} unknown, {history.Count(o => o.Outcome == OperationOutcome.Failed)} failed";

    /// <summary>The guide's cluster.json formation: every node started with it, the "leader" one bootstraps.</summary>
    private async Task<bool> FormAsync(string directory)
    {
        string config = Path.Combine(directory, "cluster.json");
        string nodes = string.Join(",\n    ", _nodes.Select(n => $$"""{ "id": "node-{{n.Number}}", "ip": "{{n.Ip}}", "port": 8080, "role": "{{(n.Number == 1 ? "leader" : "follower")}}" }"""));
        await File.WriteAllTextAsync(config, $$"""
            {
              "cluster_id": "chaos-{{seed}}",
              "nodes": [
                {{nodes}}
              ],
              "replication_factor": 3,
              "consistency_level": "{{options.Consistency}}"
            }
            """).ConfigureAwait(false);
        foreach (ChaosNode node in _nodes)
        {
            node.Start(["--config", config]);
        }

        if (!await WaitUntilAsync(AllActiveAsync, FormationTimeout).ConfigureAwait(false))
        {
            return false;
        }

        using HttpClient http = Workload.NewClient();
        return await WaitUntilAsync(async () =>
        {
            try
            {
                using HttpResponseMessage response = await http.PutAsync($"http://{_nodes[0].Ip}:8080/{Bucket}", null).ConfigureAwait(false);
                return response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.Conflict;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, FormationTimeout).ConfigureAwait(false);
    }

    private async Task NemesisAsync(List<Fault> schedule)
    {
        var clock = Stopwatch.StartNew();
        foreach (Fault fault in schedule)
        {
            await DelayUntil(clock, fault.StartMs).ConfigureAwait(false);
            _log.WriteLine($"seed {seed}: {fault}");
            Apply(fault);
            await DelayUntil(clock, fault.EndMs).ConfigureAwait(false);
            Heal(fault);
        }

        await DelayUntil(clock, (int)options.Duration.TotalMilliseconds).ConfigureAwait(false);
    }

    private static Task DelayUntil(Stopwatch clock, int ms)
    {
        long rest = ms - clock.ElapsedMilliseconds;
        return rest > 0 ? Task.Delay(TimeSpan.FromMilliseconds(rest)) : Task.CompletedTask;
    }

    private void Apply(Fault fault)
    {
        switch (fault.Kind)
        {
            case FaultKind.Kill:
                fault.Nodes.ToList().ForEach(n => _nodes[n - 1].Kill());
                break;
            case FaultKind.Pause:
                fault.Nodes.ToList().ForEach(n => _nodes[n - 1].Pause());
                break;
            default:
                lan.Partition(Schedule.Blocked(fault, options.Nodes));
                break;
        }
    }

    private void Heal(Fault fault)
    {
        switch (fault.Kind)
        {
            case FaultKind.Kill:
                fault.Nodes.ToList().ForEach(n => _nodes[n - 1].Start([]));
                break;
            case FaultKind.Pause:
                fault.Nodes.ToList().ForEach(n => _nodes[n - 1].Continue());
                break;
            default:
                lan.Heal();
                break;
        }
    }

    private void HealAll()
    {
        lan.Heal();
        foreach (ChaosNode node in _nodes)
        {
            node.Continue();
            if (!node.Running)
            {
                node.Start([]);
            }
        }
    }

    private Task<bool> AllActiveAsync() => ActiveAsync(_nodes, _nodes.Count);

    /// <summary>True when every one of <paramref name="nodes"/> answers /health with 200 and sees <paramref name="expected"/> active nodes.</summary>
    private static async Task<bool> ActiveAsync(IEnumerable<ChaosNode> nodes, int expected)
    {
        using HttpClient http = Workload.NewClient();
        foreach (ChaosNode node in nodes)
        {
            try
            {
                using HttpResponseMessage response = await http.GetAsync($"http://{node.Ip}:8080/health").ConfigureAwait(false);
                using JsonDocument health = JsonDocument.Parse(await response.Content.ReadAsStringAsync().ConfigureAwait(false));
                if (response.StatusCode != HttpStatusCode.OK || health.RootElement.GetProperty("cluster").GetProperty("active_nodes").GetInt32() != expected)
                {
                    return false;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
            {
                return false;
            }
        }

        return true;
    }

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await condition().ConfigureAwait(false))
            {
                return true;
            }

            await Task.Delay(250).ConfigureAwait(false);
        }

        return false;
    }
}
