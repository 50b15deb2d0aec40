// Owns: one seeded chaos run inside the client namespace: form the cluster, run the clients while the
// nemesis applies the seed's schedule, heal, wait for the cluster to come back by itself, read every key
// through every node, and judge the whole history and the nodes' apply traces (no two nodes applied
// different entries at one log index). Writes history.jsonl, schedule.txt and report.txt
// (and on failure the node logs) under seed-N/. With power cuts among the faults, every node's data
// directory is a powercut-fs.
// Assumes: the network (ChaosLan) is up and this process runs in its client namespace (nodes started
// from here see the file systems it mounts).
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

    /// <summary>How long a replace keeps asking the cluster to remove the node.</summary>
    public static readonly TimeSpan ReplaceTimeout = TimeSpan.FromSeconds(15);
    private const string Bucket = "chaos";

    private readonly List<ChaosNode> _nodes = [];
    private readonly List<PowerCutDisk> _disks = [];
    private readonly HashSet<int> _replaced = [];
    private readonly TextWriter _log = Console.Out;

    /// <summary>0: linearizable; 1: an anomaly (or a verdict the checker could not reach); 3: the cluster did not form or come back.</summary>
    public async Task<int> RunAsync()
    {
        string directory = Path.Combine(options.OutputDirectory, $"seed-{seed}");
        Directory.CreateDirectory(directory);
        string data = Directory.CreateTempSubdirectory("o3-chaos-").FullName;
        string joinToken = Path.Combine(data, "join-token"); // the cluster's token, as an operator copies it to each node
        await File.WriteAllTextAsync(joinToken, $"o3t1-chaos-{seed}-{Guid.NewGuid():N}\n").ConfigureAwait(false);
        List<Fault> schedule = Schedule.Make(seed, options.Nodes, (int)options.Duration.TotalMilliseconds, options.Faults);
        await File.WriteAllLinesAsync(Path.Combine(directory, "schedule.txt"), schedule.Select(f => f.ToString())).ConfigureAwait(false);
        bool keepLogs = true;
        try
        {
            for (int n = 1; n <= options.Nodes; n++)
            {
                _nodes.Add(new ChaosNode(n, lan.NodeNamespace(n), ChaosLan.Ip(n), options.Binary, Path.Combine(data, $"node-{n}"), directory, joinToken));
                if (options.CutsPower)
                {
                    _disks.Add(new PowerCutDisk(options.PowerCutFs, _nodes[^1].DataDirectory, (seed * 10) + n));
                }
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
            (int compared, IReadOnlyList<(ApplyTraceCheck.Applied First, ApplyTraceCheck.Applied Other)> diverged) = ApplyTraceCheck.Check(
                _nodes.Where(n => File.Exists(n.ApplyTrace)).Select(n => (n.Number, File.ReadLines(n.ApplyTrace))));
            string divergence = diverged.Count == 0
                ? $"apply traces: {compared} log indices, every node that applied one applied the same entry"
                : $"apply traces: REPLICAS DIVERGED\n{string.Join("\n", diverged.Select(d => $"  {d.First}\n  but {d.Other}"))}";
            string report = $"seed {seed}: {result.Verdict} in {watch.ElapsedMilliseconds} ms; {Counts(history)}; faults: {string.Join("; ", schedule)}\n\n{divergence}\n\n{result.Describe()}";
            await File.WriteAllTextAsync(Path.Combine(directory, "report.txt"), report).ConfigureAwait(false);

            List<Operation> finals = history.Where(o => o.Client == 0).ToList();
            int finalFailed = finals.Count(o => o.Outcome != OperationOutcome.Ok);
            if (!back || finalFailed > 0)
            {
                return Finish(directory, 3, $"the cluster did not come back by itself ({finalFailed} of {finals.Count} final reads failed); {result.Verdict}");
            }

            if (diverged.Count > 0)
            {
                return Finish(directory, 1, $"replicas diverged: {diverged[0].First}, {diverged[0].Other} (and {result.Verdict}): see report.txt");
            }

            if (result.Verdict != Verdict.Linearizable)
            {
                return Finish(directory, 1, $"{result.Verdict} ({Counts(history)}): see report.txt");
            }

            keepLogs = false;
            return Finish(directory, 0, $"linearizable ({Counts(history)}; {schedule.Count} faults; checked in {watch.ElapsedMilliseconds} ms; {compared} log indices applied alike)");
        }
        finally
        {
            foreach (ChaosNode node in _nodes)
            {
                node.Dispose();
            }

            foreach (PowerCutDisk disk in _disks)
            {
                disk.Dispose();
            }

            Directory.Delete(data, recursive: true);
            if (!keepLogs)
            {
                foreach (string file in Directory.GetFiles(directory, "node-*")) // logs and apply traces
                {
                    File.Delete(file);
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
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Net.Sockets.SocketException)
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
            await ApplyAsync(fault).ConfigureAwait(false);
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

    private async Task ApplyAsync(Fault fault)
    {
        switch (fault.Kind)
        {
            case FaultKind.Kill:
                fault.Nodes.ToList().ForEach(n => _nodes[n - 1].Kill());
                break;
            case FaultKind.Pause:
                fault.Nodes.ToList().ForEach(n => _nodes[n - 1].Pause());
                break;
            case FaultKind.PowerCut:
                CutPower();
                break;
            case FaultKind.Replace:
                await RemoveAsync(fault.Nodes[0]).ConfigureAwait(false);
                break;
            default:
                lan.Partition(Schedule.Blocked(fault, options.Nodes));
                break;
        }
    }

    /// <summary>Every node killed at the same moment, then every disk forgets what was not flushed.</summary>
    private void CutPower()
    {
        _nodes.ForEach(n => n.SignalKill());
        _nodes.ForEach(n => n.WaitForExit());
        foreach (PowerCutDisk disk in _disks)
        {
            disk.Cut();
            _log.WriteLine($"seed {seed}:   {Path.GetFileName(disk.Directory)} {disk.LastCut}");
        }
    }

    /// <summary>
    /// Kills <paramref name="number"/>, removes it through a live member's /admin/remove-node (with "force" only
    /// for the replication-factor refusal: two members stay for three copies) and wipes its data. If the
    /// cluster refuses for another reason, the node is only restarted when the fault ends, and the log says why.
    /// </summary>
    private async Task RemoveAsync(int number)
    {
        ChaosNode node = _nodes[number - 1];
        node.Kill();
        using HttpClient http = Workload.NewClient();
        // Removed while the others still count it as up, it would be drained (202) instead: wait until it is down for them.
        if (!await WaitUntilAsync(() => SeenDownAsync(http, node), ReplaceTimeout).ConfigureAwait(false))
        {
            _log.WriteLine($"seed {seed}:   node {number} never seen down; it is restarted on its data instead");
            return;
        }

        bool force = false;
        string last = "no answer";
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < ReplaceTimeout)
        {
            foreach (ChaosNode other in _nodes.Where(n => n != node && n.Running))
            {
                try
                {
                    using var body = new StringContent($$"""{"node_id": "{{node.Ip}}:8080", "force": {{(force ? "true" : "false")}}}""", System.Text.Encoding.UTF8, "application/json");
                    using HttpResponseMessage response = await http.PostAsync($"http://{other.Ip}:8080/admin/remove-node", body).ConfigureAwait(false);
                    last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync().ConfigureAwait(false)}";
                    // 202: the leader still counted it as up and drains it (here nothing can be read from it,
                    // so the drain only waits for the other copies); once it is out, it is replaced the same way.
                    bool draining = response.StatusCode == HttpStatusCode.Accepted;
                    if (draining && !await WaitUntilAsync(() => GoneAsync(http, node), ReplaceTimeout).ConfigureAwait(false))
                    {
                        _log.WriteLine($"seed {seed}:   node {number} is being drained and was not out within {ReplaceTimeout.TotalSeconds:0} s; it is restarted on its data (and may find itself removed)");
                        return;
                    }

                    if (response.IsSuccessStatusCode)
                    {
                        WipeContents(node.DataDirectory);
                        _replaced.Add(number);
                        _log.WriteLine($"seed {seed}:   node {number} {(draining ? "drained" : "removed")} through node {other.Number} and wiped");
                        return;
                    }

                    if (response.StatusCode == HttpStatusCode.Conflict && last.Contains("replication_factor", StringComparison.Ordinal) && !force)
                    {
                        force = true;
                        break;
                    }

                    if (response.StatusCode is HttpStatusCode.NotFound || (response.StatusCode == HttpStatusCode.Conflict && !last.Contains("in progress", StringComparison.Ordinal)))
                    {
                        _log.WriteLine($"seed {seed}:   node {number} not removed ({last.Trim()}); it is restarted on its data instead");
                        return;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Net.Sockets.SocketException)
                {
                    last = e.Message;
                }
            }

            await Task.Delay(200).ConfigureAwait(false);
        }

        _log.WriteLine($"seed {seed}:   node {number} not removed within {ReplaceTimeout.TotalSeconds:0} s ({last.Trim()}); it is restarted on its data instead");
    }

    /// <summary>True when every running node's /health lists <paramref name="node"/> as not reachable (whichever one leads decides the removal).</summary>
    private Task<bool> SeenDownAsync(HttpClient http, ChaosNode node) =>
        EveryOtherAsync(http, node, members => members.Any(m => m.GetProperty("id").GetString() == $"{node.Ip}:8080" && !m.GetProperty("reachable").GetBoolean()));

    /// <summary>True when no running node lists <paramref name="node"/> as a member any more.</summary>
    private Task<bool> GoneAsync(HttpClient http, ChaosNode node) =>
        EveryOtherAsync(http, node, members => !members.Any(m => m.GetProperty("id").GetString() == $"{node.Ip}:8080"));

    private async Task<bool> EveryOtherAsync(HttpClient http, ChaosNode node, Func<List<JsonElement>, bool> holds)
    {
        foreach (ChaosNode other in _nodes.Where(n => n != node && n.Running))
        {
            try
            {
                using JsonDocument health = JsonDocument.Parse(await http.GetStringAsync($"http://{other.Ip}:8080/health").ConfigureAwait(false));
                if (!holds([.. health.RootElement.GetProperty("cluster").GetProperty("members").EnumerateArray()]))
                {
                    return false;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Net.Sockets.SocketException or JsonException or KeyNotFoundException or InvalidOperationException)
            {
                return false;
            }
        }

        return true;
    }

    private static void WipeContents(string directory)
    {
        foreach (string entry in Directory.EnumerateFileSystemEntries(directory))
        {
            if (Directory.Exists(entry))
            {
                Directory.Delete(entry, recursive: true);
            }
            else
            {
                File.Delete(entry);
            }
        }
    }

    private void Heal(Fault fault)
    {
        switch (fault.Kind)
        {
            case FaultKind.Kill:
                fault.Nodes.ToList().ForEach(Restart);
                break;
            case FaultKind.Pause:
                fault.Nodes.ToList().ForEach(n => _nodes[n - 1].Continue());
                break;
            case FaultKind.PowerCut:
                _nodes.ForEach(n => Restart(n.Number));
                break;
            case FaultKind.Replace:
                Restart(fault.Nodes[0]);
                break;
            default:
                lan.Heal();
                break;
        }
    }

    /// <summary>
    /// Starts a node that is not running: on its data, or, once it was replaced, with <c>--peers</c> (it joins
    /// again as a new member; once it is a member the flag is ignored, and a join cut short by the next fault
    /// is resumed by a later restart).
    /// </summary>
    private void Restart(int number)
    {
        ChaosNode node = _nodes[number - 1];
        if (node.Running)
        {
            return;
        }

        node.Start(_replaced.Contains(number) ? ["--peers", string.Join(',', _nodes.Where(n => n != node).Select(n => n.Ip))] : []);
    }

    private void HealAll()
    {
        lan.Heal();
        foreach (ChaosNode node in _nodes)
        {
            node.Continue();
            Restart(node.Number);
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
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Net.Sockets.SocketException or JsonException or KeyNotFoundException or InvalidOperationException)
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
