using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests.Harness;

/// <summary>
/// Real o3storage processes on 127.&lt;subnet&gt;.0.&lt;n&gt;:8080, exactly like separate boards, each with its own
/// data directory under one temporary root. Disposal kills every process and prints their logs.
/// </summary>
internal sealed class TestCluster : IDisposable
{
    public const int ApiPort = 8080;
    public static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(90); // an upper bound only: five nodes on two busy cores can take a while

    private static readonly HttpClient s_http = new(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(1) })
    {
        Timeout = TimeSpan.FromSeconds(3),
    };

    private readonly int _subnet;
    private readonly ITestOutputHelper _output;
    private readonly List<NodeProcess> _processes = [];
    private readonly Dictionary<int, NodeProcess> _current = [];

    public TestCluster(int subnet, ITestOutputHelper output)
    {
        _subnet = subnet;
        _output = output;
        Root = Directory.CreateTempSubdirectory("o3-it-").FullName;
        JoinTokenFile = Path.Combine(Root, "join-token");
        File.WriteAllText(JoinTokenFile, $"o3t1-it-{Guid.NewGuid():N}\n");
    }

    public string Root { get; }

    /// <summary>
    /// The cluster's join token, given to every node started from now on as the operator would copy it
    /// (--join-token-file); null: none given (a node must find its own, as a bootstrap does).
    /// </summary>
    public string? JoinTokenFile { get; set; }

    /// <summary>Each node's blob device (--device-size) for nodes started from now on.</summary>
    public string DeviceSize { get; set; } = "300M";

    /// <summary>
    /// The guide's "Bootstrap New Cluster": node 1 with --bootstrap, then nodes 2..size with --peers node1,
    /// waiting until every node sees all of them.
    /// </summary>
    /// <param name="extra">Arguments every node gets (e.g. --api-keys PATH).</param>
    public static async Task<TestCluster> StartAsync(int subnet, int size, ITestOutputHelper output, params string[] extra)
    {
        var cluster = new TestCluster(subnet, output);
        try
        {
            await cluster.FormAsync(size, extra);
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>The guide's "Bootstrap New Cluster" on this instance (e.g. once each data directory is mounted).</summary>
    public async Task FormAsync(int size, params string[] extra)
    {
        Bootstrap(1, extra);
        await WaitForActiveNodesAsync([1], 1);
        for (int node = 2; node <= size; node++)
        {
            Join(node, Peers(1), extra);
        }

        await WaitForActiveNodesAsync(Enumerable.Range(1, size), size);
    }

    public string Ip(int node) => $"127.{_subnet}.0.{node}";

    public string NodeId(int node) => $"{Ip(node)}:{ApiPort}";

    public string DataDirectory(int node) => Path.Combine(Root, $"node-{node}");

    /// <summary>The guide's peer list form: comma-separated IPs, port implied.</summary>
    public string Peers(params int[] nodes) => string.Join(',', nodes.Select(Ip));

    public NodeProcess Bootstrap(int node, params string[] extra) => Start(node, ["--bootstrap", .. extra]);

    public NodeProcess Join(int node, string peers, params string[] extra) => Start(node, ["--peers", peers, .. extra]);

    public NodeProcess Start(int node, params string[] args) => StartWithEnvironment(node, null, args);

    /// <summary>Starts node <paramref name="node"/> with extra environment variables (e.g. systemd's NOTIFY_SOCKET).</summary>
    public NodeProcess StartWithEnvironment(int node, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        // No board unless a test asks for one: on an ARM machine the tests must not take over its real LED.
        string[] board = args.Contains("--board") || args.Contains("--hardware-root") ? [] : ["--board", "none"];
        string[] token = JoinTokenFile is null || args.Contains("--join-token-file") || args.Contains("--boot-config") ? [] : ["--join-token-file", JoinTokenFile];
        NodeProcess process = NodeProcess.Start(
            $"node-{node}",
            ["--ip", Ip(node), "--port", ApiPort.ToString(), "--data", DataDirectory(node), "--device-size", DeviceSize, .. board, .. token, .. args],
            environment,
            Binaries.GetValueOrDefault(node));
        _processes.Add(process);
        _current[node] = process;
        return process;
    }

    /// <summary>The o3storage each node runs when started from now on, where it is not the published one (a rolling update).</summary>
    public Dictionary<int, string> Binaries { get; } = [];

    /// <summary>The most recently started process of <paramref name="node"/>.</summary>
    public NodeProcess Process(int node) => _current[node];

    /// <summary>The process of <paramref name="node"/> while it runs, else null.</summary>
    public NodeProcess? TryProcess(int node) => _current.TryGetValue(node, out NodeProcess? process) && !process.HasExited ? process : null;

    /// <summary>kill -9.</summary>
    public void Kill(int node) => _current[node].Kill();

    /// <summary>kill -9 of every one of <paramref name="nodes"/> at once (the signals first, then the waits).</summary>
    public void KillAtOnce(IEnumerable<int> nodes)
    {
        int[] all = [.. nodes];
        foreach (int node in all)
        {
            _current[node].KillWithoutWaiting();
        }

        foreach (int node in all)
        {
            _current[node].Kill();
        }
    }

    public Task<(HttpStatusCode Status, JsonElement Body)?> TryHealthAsync(int node) => TryHealthAsync(NodeId(node));

    /// <summary>One GET /health of the node at <paramref name="nodeId"/> (ip:port); null when it does not answer with JSON.</summary>
    public static async Task<(HttpStatusCode Status, JsonElement Body)?> TryHealthAsync(string nodeId)
    {
        try
        {
            using HttpResponseMessage response = await s_http.GetAsync($"http://{nodeId}/health");
            string text = await response.Content.ReadAsStringAsync();
            using JsonDocument document = JsonDocument.Parse(text);
            return (response.StatusCode, document.RootElement.Clone());
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    public async Task<JsonElement> HealthAsync(int node) =>
        (await TryHealthAsync(node))?.Body ?? throw new InvalidOperationException($"{NodeId(node)} did not answer /health");

    /// <summary>Polls until <paramref name="condition"/> holds; a bounded wait, not a timing assertion.</summary>
    public async Task WaitUntilAsync(string what, Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        TimeSpan waited = await PollAsync(what, condition, timeout);
        _output.WriteLine($"{waited.TotalMilliseconds,6:0} ms: {what}");
    }

    /// <summary>Polls until <paramref name="condition"/> holds, for a test without a cluster; returns how long it took.</summary>
    public static async Task<TimeSpan> PollAsync(string what, Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var stopwatch = Stopwatch.StartNew();
        TimeSpan limit = timeout ?? WaitTimeout;
        while (!await condition())
        {
            if (stopwatch.Elapsed > limit)
            {
                throw new TimeoutException($"waited {limit.TotalSeconds} s for: {what}");
            }

            await Task.Delay(50);
        }

        return stopwatch.Elapsed;
    }

    public Task WaitForActiveNodesAsync(IEnumerable<int> nodes, int expected) =>
        WaitUntilAsync($"active_nodes == {expected} on {string.Join(',', nodes)}", async () =>
        {
            foreach (int node in nodes)
            {
                var health = await TryHealthAsync(node);
                if (health is not { Status: HttpStatusCode.OK } || health.Value.Body.GetProperty("cluster").GetProperty("active_nodes").GetInt32() != expected)
                {
                    return false;
                }
            }

            return true;
        });

    /// <summary>Waits until every listed node answers 200 and names the same leader; returns it.</summary>
    public async Task<string> WaitForAgreedLeaderAsync(IReadOnlyCollection<int> nodes, string? notThis = null)
    {
        string? agreed = null;
        await WaitUntilAsync($"nodes {string.Join(',', nodes)} agree on a leader{(notThis is null ? "" : $" other than {notThis}")}", async () =>
        {
            var leaders = new HashSet<string?>();
            foreach (int node in nodes)
            {
                var health = await TryHealthAsync(node);
                if (health is not { Status: HttpStatusCode.OK })
                {
                    return false;
                }

                leaders.Add(health.Value.Body.GetProperty("cluster").GetProperty("leader").GetString());
            }

            agreed = leaders.Count == 1 ? leaders.Single() : null;
            return agreed is not null && agreed != notThis;
        });
        return agreed!;
    }

    public int NodeNumberOf(string nodeId) =>
        int.Parse(nodeId.Split(':')[0].Split('.')[3], System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose()
    {
        foreach (NodeProcess process in _processes)
        {
            try
            {
                process.Dispose();
            }
            catch (Exception e)
            {
                _output.WriteLine($"disposing {process.Name} (pid {process.Pid}) failed: {e}");
            }

            _output.WriteLine($"----- {process.Name} (pid {process.Pid}) stdout -----\n{process.Stdout}----- stderr -----\n{process.Stderr}");
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _output.WriteLine($"could not remove {Root}: {e.Message}");
        }
    }
}
