using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// /metrics as a real Prometheus (Debian's) sees it: three nodes scraped every second, objects written,
/// then the latency histograms queried back through Prometheus's own API (docs/operations.md, metrics).
/// promtool, Prometheus's linter, checks every node's exposition against its naming conventions.
/// </summary>
public sealed class MetricsTests(ITestOutputHelper output)
{
    private static readonly HttpClient s_http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Prometheus_ScrapesThreeNodes_HistogramsOfS3RaftAndBlobLatencyQueryBack()
    {
        using TestCluster cluster = await TestCluster.StartAsync(85, 3, output);
        var work = new Workload(cluster);
        await work.SeedAsync([1, 2, 3], count: 60);
        foreach (string key in work.Acknowledged.Keys.Take(20))
        {
            using HttpResponseMessage got = await s_http.GetAsync($"http://{cluster.NodeId(1)}/{work.Bucket}/{key}");
            Assert.True(got.IsSuccessStatusCode);
        }

        // The linter: HELP and TYPE for every family, units in names, _total on counters, no duplicates.
        for (int node = 1; node <= 3; node++)
        {
            string exposition = await s_http.GetStringAsync($"http://{cluster.NodeId(node)}/metrics");
            Assert.Contains("o3storage_s3_request_duration_seconds_bucket{operation=\"PutObject\"", exposition);
            (int lint, string problems) = await PromtoolAsync(exposition);
            Assert.True(lint == 0 && problems.Length == 0, $"promtool check metrics on node {node}: {problems}");
        }

        string directory = Directory.CreateTempSubdirectory("o3-it-prometheus-").FullName;
        string listen = "127.85.0.100:9090";
        string targets = string.Join(", ", Enumerable.Range(1, 3).Select(n => $"'{cluster.NodeId(n)}'"));
        await File.WriteAllTextAsync(Path.Combine(directory, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: o3storage
                static_configs:
                  - targets: [{targets}]
            """);
        var info = new ProcessStartInfo("prometheus") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = directory };
        foreach (string arg in new[] { "--config.file=prometheus.yml", $"--storage.tsdb.path={directory}/data", $"--web.listen-address={listen}", "--log.level=warn" })
        {
            info.ArgumentList.Add(arg);
        }

        using Process prometheus = Process.Start(info) ?? throw new InvalidOperationException("could not start prometheus");
        var log = new System.Text.StringBuilder();
        prometheus.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        prometheus.BeginErrorReadLine();
        prometheus.BeginOutputReadLine();
        try
        {
            await cluster.WaitUntilAsync("Prometheus scrapes all three nodes", async () =>
                (await QueryAsync(listen, "up{job=\"o3storage\"} == 1")).GetArrayLength() == 3);

            // Every node answered some of the PUTs (the workload writes through each in turn).
            JsonElement puts = await QueryAsync(listen, "sum by (instance) (o3storage_s3_request_duration_seconds_count{operation=\"PutObject\"})");
            Assert.Equal(3, puts.GetArrayLength());
            Assert.Equal(54, puts.EnumerateArray().Sum(Value)); // 60 objects, 6 of them multipart

            // The histogram back: the 99th percentile of PUT latency across the cluster, from the buckets.
            double p99 = Value(Assert.Single((await QueryAsync(listen, "histogram_quantile(0.99, sum by (le) (o3storage_s3_request_duration_seconds_bucket{operation=\"PutObject\"}))")).EnumerateArray()));
            output.WriteLine($"PUT p99 from Prometheus: {p99 * 1000:0.0} ms");
            Assert.InRange(p99, 0.0001, 10);

            foreach (string counted in new[] { "o3storage_raft_commit_duration_seconds_count", "o3storage_raft_wal_flush_duration_seconds_count", "o3storage_blob_write_duration_seconds_count", "o3storage_blob_read_duration_seconds_count" })
            {
                double total = (await QueryAsync(listen, $"sum({counted})")).EnumerateArray().Sum(Value);
                output.WriteLine($"{counted}: {total}");
                Assert.True(total > 0, $"{counted} is {total}");
            }

            double written = (await QueryAsync(listen, "sum(o3storage_blob_written_bytes_total)")).EnumerateArray().Sum(Value);
            // Six multipart objects of more than 5 MiB each, three replicas of each.
            Assert.True(written >= 3 * 6 * (5 << 20), $"blob bytes written: {written}");
            Assert.Equal(3, (await QueryAsync(listen, "o3storage_background_work_factor")).GetArrayLength());
            Assert.Equal(3, (await QueryAsync(listen, "o3storage_repair_queue_blobs == 0")).GetArrayLength());

            // The Grafana dashboard in docs/: every panel's query is valid PromQL over these metrics, and
            // all but the ones that can be empty here (no temperature sensor, no errors) find series.
            await cluster.WaitUntilAsync("two scrapes for rates", async () =>
                (await QueryAsync(listen, "sum(rate(o3storage_s3_requests_total[1m]))")).GetArrayLength() == 1);
            using JsonDocument dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(NodeBinary.RepositoryRoot, "docs", "grafana", "o3storage-cluster.json")));
            int queries = 0;
            foreach (JsonElement panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
            {
                foreach (JsonElement target in panel.GetProperty("targets").EnumerateArray())
                {
                    string expr = target.GetProperty("expr").GetString()!.Replace("$job", "o3storage", StringComparison.Ordinal).Replace("$__rate_interval", "1m", StringComparison.Ordinal);
                    using HttpResponseMessage answer = await s_http.GetAsync($"http://{listen}/api/v1/query?query={Uri.EscapeDataString(expr)}");
                    string body = await answer.Content.ReadAsStringAsync();
                    Assert.True(answer.IsSuccessStatusCode, $"panel '{panel.GetProperty("title").GetString()}': {expr} -> {body}");
                    bool mayBeEmpty = expr.Contains("temperature", StringComparison.Ordinal) || expr.Contains("code=~", StringComparison.Ordinal);
                    Assert.True(mayBeEmpty || JsonDocument.Parse(body).RootElement.GetProperty("data").GetProperty("result").GetArrayLength() > 0,
                        $"panel '{panel.GetProperty("title").GetString()}' finds no series: {expr}");
                    queries++;
                }
            }

            output.WriteLine($"{queries} dashboard queries checked");
        }
        finally
        {
            prometheus.Kill();
            await prometheus.WaitForExitAsync();
            lock (log)
            {
                output.WriteLine($"prometheus log:\n{log}");
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    private static double Value(JsonElement sample) => double.Parse(sample.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);

    /// <summary>An instant query through Prometheus's HTTP API: its result vector.</summary>
    private async Task<JsonElement> QueryAsync(string listen, string query)
    {
        string url = $"http://{listen}/api/v1/query?query={Uri.EscapeDataString(query)}";
        try
        {
            using JsonDocument answer = JsonDocument.Parse(await s_http.GetStringAsync(url));
            JsonElement result = answer.RootElement.GetProperty("data").GetProperty("result").Clone();
            output.WriteLine($"{query} -> {result.GetRawText()}");
            return result;
        }
        catch (HttpRequestException e)
        {
            output.WriteLine($"{query}: {e.Message}");
            return JsonDocument.Parse("[]").RootElement;
        }
    }

    private static async Task<(int Exit, string Problems)> PromtoolAsync(string exposition)
    {
        var info = new ProcessStartInfo("promtool") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("check");
        info.ArgumentList.Add("metrics");
        using Process promtool = Process.Start(info) ?? throw new InvalidOperationException("could not start promtool");
        Task<string> stdout = promtool.StandardOutput.ReadToEndAsync();
        Task<string> stderr = promtool.StandardError.ReadToEndAsync();
        await promtool.StandardInput.WriteAsync(exposition);
        promtool.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await promtool.WaitForExitAsync(timeout.Token);
        return (promtool.ExitCode, (await stdout + await stderr).Trim());
    }
}
