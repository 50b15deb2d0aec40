// Owns: the sd_notify protocol towards systemd (Type=notify, WatchdogSec): READY=1 once the node
// serves, STATUS= lines for `systemctl status`, STOPPING=1, and WATCHDOG=1 keep-alives.
// Assumes: systemd passes NOTIFY_SOCKET (a path, or '@' for the abstract namespace) and, with a
// watchdog, WATCHDOG_USEC and optionally WATCHDOG_PID. Without NOTIFY_SOCKET every call is a no-op.
// Faults: a send that fails is dropped (systemd gone or restarting); a node whose thread pool or
// metadata apply is stuck stops feeding the watchdog, and systemd restarts it.
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace O3Storage.Node.Hosting;

internal sealed class SystemdNotifier : IDisposable
{
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endPoint;

    private SystemdNotifier(string? socketPath, TimeSpan? watchdogInterval)
    {
        WatchdogInterval = watchdogInterval;
        if (socketPath is null)
        {
            return;
        }

        _endPoint = new UnixDomainSocketEndPoint(socketPath[0] == '@' ? "\0" + socketPath[1..] : socketPath);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    /// <summary>Whether systemd asked for notifications (NOTIFY_SOCKET is set).</summary>
    public bool Enabled => _socket is not null;

    /// <summary>Half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises; null: no watchdog for this process.</summary>
    public TimeSpan? WatchdogInterval { get; }

    public static SystemdNotifier FromEnvironment() =>
        FromEnvironment(Environment.GetEnvironmentVariable, Environment.ProcessId);

    public static SystemdNotifier FromEnvironment(Func<string, string?> variable, int processId)
    {
        string? socket = variable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(socket) || socket[0] is not ('/' or '@'))
        {
            socket = null;
        }

        TimeSpan? interval = null;
        string? pid = variable("WATCHDOG_PID");
        bool forUs = string.IsNullOrEmpty(pid) || pid == processId.ToString(CultureInfo.InvariantCulture);
        if (socket is not null && forUs
            && long.TryParse(variable("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out long usec) && usec > 0)
        {
            interval = TimeSpan.FromMicroseconds(usec / 2.0);
        }

        return new SystemdNotifier(socket, interval);
    }

    public void Ready(string status) => Send($"READY=1\nSTATUS={status}");

    public void Status(string status) => Send($"STATUS={status}");

    public void Stopping(string status) => Send($"STOPPING=1\nSTATUS={status}");

    /// <summary>
    /// Asks systemd for <paramref name="more"/> time before TimeoutStartSec fails the start: sent while
    /// the node legitimately waits without bound (for the other boards to show up), and only while the
    /// waiting loop still runs, so a hung start still times out.
    /// </summary>
    public void ExtendStartTimeout(TimeSpan more) => Send($"EXTEND_TIMEOUT_USEC={(long)more.TotalMicroseconds}");

    /// <summary>
    /// Feeds the watchdog every <see cref="WatchdogInterval"/> while <paramref name="alive"/> says so. The
    /// loop runs on the thread pool, so a starved pool also stops the feeding; that is the point.
    /// </summary>
    public async Task RunWatchdogAsync(Func<bool> alive, TimeProvider time, CancellationToken token)
    {
        if (WatchdogInterval is not { } interval)
        {
            return;
        }

        try
        {
            while (true)
            {
                if (alive())
                {
                    Send("WATCHDOG=1");
                }

                await Task.Delay(interval, time, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopping: systemd stops expecting keep-alives once STOPPING=1 arrived.
        }
    }

    private void Send(string message)
    {
        if (_socket is null)
        {
            return;
        }

        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(message), _endPoint!);
        }
        catch (SocketException)
        {
            // systemd is restarting or went away; the next message tries again.
        }
    }

    public void Dispose() => _socket?.Dispose();
}
