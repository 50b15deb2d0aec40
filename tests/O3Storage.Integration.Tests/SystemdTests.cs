using System.Net;
using System.Net.Sockets;
using System.Text;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// The node under a stand-in for systemd: the datagram socket o3storage.service's Type=notify and
/// WatchdogSec give it, and the journal's stream (JOURNAL_STREAM). The QEMU image test runs it under
/// the real systemd; this one runs on every `make test`.
/// </summary>
public sealed class SystemdTests(ITestOutputHelper output) : IDisposable
{
    private readonly Socket _systemd = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly string _socketDirectory = Directory.CreateTempSubdirectory("o3-it-notify-").FullName;

    private async Task<string> ReceiveAsync(TimeSpan timeout)
    {
        byte[] buffer = new byte[4096];
        using var cancellation = new CancellationTokenSource(timeout);
        int length = await _systemd.ReceiveAsync(buffer, SocketFlags.None, cancellation.Token);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    private async Task<string> ReceiveUntilAsync(string prefix, TimeSpan timeout, List<string> seen)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew(); // monotonic: a clock step cannot make the rest negative
        while (true)
        {
            TimeSpan rest = timeout - waited.Elapsed;
            string message = await ReceiveAsync(rest > TimeSpan.Zero ? rest : TimeSpan.FromMilliseconds(1));
            seen.Add(message);
            if (message.StartsWith(prefix, StringComparison.Ordinal))
            {
                return message;
            }
        }
    }

    [Fact]
    public async Task Node_UnderSystemd_SaysReadyOnceServing_FeedsTheWatchdog_AndSaysStopping()
    {
        string socketPath = Path.Combine(_socketDirectory, "notify");
        _systemd.Bind(new UnixDomainSocketEndPoint(socketPath));
        using var cluster = new TestCluster(51, output);
        string logFile = Path.Combine(cluster.Root, "o3storage.log");
        NodeProcess node = cluster.StartWithEnvironment(
            1,
            new Dictionary<string, string>
            {
                ["NOTIFY_SOCKET"] = socketPath,
                ["WATCHDOG_USEC"] = "1000000", // a keep-alive every 0.5 s
                ["JOURNAL_STREAM"] = "8:12345",
            },
            "--bootstrap",
            "--log-file",
            logFile);

        var seen = new List<string>();
        string ready = await ReceiveUntilAsync("READY=1", TestCluster.WaitTimeout, seen);
        var health = await TestCluster.TryHealthAsync(cluster.NodeId(1));
        Assert.Equal(HttpStatusCode.OK, health?.Status); // READY=1 only once the node serves
        Assert.Equal($"READY=1\nSTATUS=serving on http://{cluster.NodeId(1)} as a cluster member", ready);
        Assert.Contains($"STATUS=starting node {cluster.NodeId(1)}", seen);

        await ReceiveUntilAsync("WATCHDOG=1", TimeSpan.FromSeconds(10), seen);
        await ReceiveUntilAsync("WATCHDOG=1", TimeSpan.FromSeconds(10), seen);

        node.Terminate();
        Assert.Equal("STOPPING=1\nSTATUS=stopping", await ReceiveUntilAsync("STOPPING=1", TestCluster.WaitTimeout, seen));
        Assert.Equal(0, await node.WaitForExitAsync(TestCluster.WaitTimeout));

        // The journal gets syslog priorities (<6> info, <4> warning), not console timestamps.
        string[] lines = node.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, line => line.StartsWith("<6>o3storage[1002] serving on", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("<4>o3storage[4001]", StringComparison.Ordinal)); // authentication off
        Assert.All(lines, line => Assert.Matches(@"^<\d>", line));

        // The same events, with UTC timestamps, in --log-file.
        string[] logged = await File.ReadAllLinesAsync(logFile);
        Assert.Contains(logged, line => line.Contains(" info o3storage[1002] serving on", StringComparison.Ordinal));
        Assert.Contains(logged, line => line.Contains(" info o3storage[1003] stopping: SIGTERM", StringComparison.Ordinal));
        Assert.All(logged.Where(line => !line.StartsWith("    ", StringComparison.Ordinal)), line => Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (dbug|info|warn|fail|crit) ", line));
    }

    [Fact]
    public async Task Node_RestartedUnderSystemd_SaysReadyOnlyOnceItsClusterHasALeader()
    {
        // The guide's rolling update: `systemctl start` returns at READY=1, and the next thing the
        // user does is read /health or an object. A restarted member elects (or finds) a leader first.
        string socketPath = Path.Combine(_socketDirectory, "notify");
        _systemd.Bind(new UnixDomainSocketEndPoint(socketPath));
        using var cluster = new TestCluster(59, output);
        NodeProcess first = cluster.Start(1, "--bootstrap");
        await cluster.WaitUntilAsync("the new cluster serves", async () => await TestCluster.TryHealthAsync(cluster.NodeId(1)) is { Status: HttpStatusCode.OK });
        first.Terminate();
        Assert.Equal(0, await first.WaitForExitAsync(TestCluster.WaitTimeout));

        cluster.StartWithEnvironment(1, new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socketPath }, "--bootstrap");
        var seen = new List<string>();
        await ReceiveUntilAsync("READY=1", TestCluster.WaitTimeout, seen);
        var health = await TestCluster.TryHealthAsync(cluster.NodeId(1));
        Assert.Equal(HttpStatusCode.OK, health?.Status);
        Assert.Equal("leader", health!.Value.Body.GetProperty("cluster").GetProperty("role").GetString());
        Assert.Contains("STATUS=serving; waiting for the cluster to have a leader", seen);
    }

    [Fact]
    public async Task Node_WithAnUnwritableLogFile_RefusesToStartWithOneLine()
    {
        using var cluster = new TestCluster(51, output);
        NodeProcess node = cluster.Start(2, "--bootstrap", "--log-file", Path.Combine(cluster.Root, "no-such-dir", "o3storage.log"));
        Assert.Equal(1, await node.WaitForExitAsync(TestCluster.WaitTimeout));
        Assert.StartsWith("o3storage: --log-file: cannot write ", node.Stderr);
        Assert.False(Directory.Exists(cluster.DataDirectory(2)), "nothing is written before the log can be");
    }

    public void Dispose()
    {
        _systemd.Dispose();
        Directory.Delete(_socketDirectory, recursive: true);
    }
}
