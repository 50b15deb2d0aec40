using System.Net.Sockets;
using System.Text;
using O3Storage.Node.Hosting;

namespace O3Storage.Node.Tests.Hosting;

/// <summary>sd_notify over a real datagram socket bound where systemd's would be.</summary>
public sealed class SystemdNotifierTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("o3-notify-").FullName;
    private readonly Socket _systemd = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly string _socketPath;

    public SystemdNotifierTests()
    {
        _socketPath = Path.Combine(_directory, "notify");
        _systemd.Bind(new UnixDomainSocketEndPoint(_socketPath));
        _systemd.ReceiveTimeout = 5000;
    }

    private string Receive()
    {
        byte[] buffer = new byte[4096];
        int length = _systemd.Receive(buffer);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    private SystemdNotifier Notifier(string? watchdogUsec = null, string? watchdogPid = null) =>
        SystemdNotifier.FromEnvironment(
            name => name switch
            {
                "NOTIFY_SOCKET" => _socketPath,
                "WATCHDOG_USEC" => watchdogUsec,
                "WATCHDOG_PID" => watchdogPid,
                _ => null,
            },
            processId: 4242);

    [Fact]
    public void Ready_Status_Stopping_ArriveAsSystemdParsesThem()
    {
        using SystemdNotifier notifier = Notifier();
        Assert.True(notifier.Enabled);
        notifier.Status("joining through 10.0.0.1:8080");
        notifier.Ready("serving");
        notifier.Stopping("stopping");
        Assert.Equal("STATUS=joining through 10.0.0.1:8080", Receive());
        Assert.Equal("READY=1\nSTATUS=serving", Receive());
        Assert.Equal("STOPPING=1\nSTATUS=stopping", Receive());
    }

    [Fact]
    public void AbstractSocketName_IsReached()
    {
        string name = $"o3-notify-test-{Guid.NewGuid():N}";
        using var abstractSocket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        abstractSocket.Bind(new UnixDomainSocketEndPoint("\0" + name));
        abstractSocket.ReceiveTimeout = 5000;
        using SystemdNotifier notifier = SystemdNotifier.FromEnvironment(n => n == "NOTIFY_SOCKET" ? "@" + name : null, 1);
        notifier.Ready("serving");
        byte[] buffer = new byte[256];
        Assert.Equal("READY=1\nSTATUS=serving", Encoding.UTF8.GetString(buffer, 0, abstractSocket.Receive(buffer)));
    }

    [Fact]
    public void NoNotifySocket_EverythingIsANoOp()
    {
        using SystemdNotifier notifier = SystemdNotifier.FromEnvironment(_ => null, 1);
        Assert.False(notifier.Enabled);
        Assert.Null(notifier.WatchdogInterval);
        notifier.Ready("serving");
        Assert.True(notifier.RunWatchdogAsync(() => true, TimeProvider.System, CancellationToken.None).IsCompletedSuccessfully);
    }

    [Theory]
    [InlineData("30000000", null, 15_000)]
    [InlineData("30000000", "4242", 15_000)]
    [InlineData("30000000", "17", null)] // the watchdog is for another process of the unit
    [InlineData("0", null, null)]
    [InlineData("soon", null, null)]
    [InlineData(null, null, null)]
    public void WatchdogInterval_IsHalfOfWatchdogUsec_ForThisProcessOnly(string? usec, string? pid, int? expectedMs)
    {
        using SystemdNotifier notifier = Notifier(usec, pid);
        Assert.Equal(expectedMs is null ? null : TimeSpan.FromMilliseconds(expectedMs.Value), notifier.WatchdogInterval);
    }

    [Fact]
    public async Task Watchdog_FeedsWhileAlive_AndStopsFeedingWhenNot()
    {
        using SystemdNotifier notifier = Notifier(watchdogUsec: "40000"); // a keep-alive every 20 ms
        bool alive = true;
        var askedWhenDead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        Task loop = notifier.RunWatchdogAsync(
            () =>
            {
                bool now = Volatile.Read(ref alive);
                if (!now)
                {
                    askedWhenDead.TrySetResult();
                }

                return now;
            },
            TimeProvider.System,
            stop.Token);
        Assert.Equal("WATCHDOG=1", Receive());
        Assert.Equal("WATCHDOG=1", Receive());

        Volatile.Write(ref alive, false);

        // Once the loop has asked and heard "dead", every keep-alive it sent before is in the socket: drain those.
        await askedWhenDead.Task.WaitAsync(TimeSpan.FromSeconds(5));
        _systemd.ReceiveTimeout = 10;
        try
        {
            while (true)
            {
                Receive();
            }
        }
        catch (SocketException)
        {
        }

        _systemd.ReceiveTimeout = 300; // fifteen intervals
        Assert.Throws<SocketException>(() => Receive());

        await stop.CancelAsync();
        await loop; // ends quietly on cancellation
    }

    public void Dispose()
    {
        _systemd.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
