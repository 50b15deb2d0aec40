using System.Diagnostics;

namespace O3Storage.Provisioning.Tests.AvahiDaemon;

/// <summary>
/// Real avahi-daemons on a private LAN (tests/firstboot/lan.sh under its own name, so the first-boot
/// test's LAN is never touched): each host a network namespace with its own system D-Bus, reached
/// from this process through the host holder's mount namespace (/proc/PID/root). Needs root,
/// iproute2, dbus-daemon and avahi-daemon (tools/install-deps.sh installs them); without them the
/// tests fail saying so, rather than pass without having run.
/// </summary>
public sealed class PrivateAvahiLan : IDisposable
{
    private const string LanName = "o3avahi";
    public const int Hosts = 2;

    private readonly string _script = Path.Combine(BootConfigTests.RepoRoot(), "tests", "firstboot", "lan.sh");

    public PrivateAvahiLan()
    {
        Run("up", Hosts.ToString(System.Globalization.CultureInfo.InvariantCulture), "o3avahi-1", "o3avahi-2");
    }

    /// <summary>The D-Bus address of host <paramref name="host"/>'s system bus, as a client in that host would use it.</summary>
    public string BusAddress(int host) => $"unix:path=/proc/{File.ReadAllText($"/tmp/{LanName}/h{host}.pid").Trim()}/root/run/dbus/system_bus_socket";

    /// <summary>Runs a command inside host <paramref name="host"/> and returns its standard output.</summary>
    public string Exec(int host, params string[] command) => Run(["exec", host.ToString(System.Globalization.CultureInfo.InvariantCulture), .. command]);

    /// <summary>Starts a long-running command inside host <paramref name="host"/> (the caller kills it).</summary>
    public Process Start(int host, params string[] command) =>
        Process.Start(StartInfo(["exec", host.ToString(System.Globalization.CultureInfo.InvariantCulture), .. command])) ?? throw new InvalidOperationException($"cannot start {_script}");

    /// <summary>
    /// What a peer on host <paramref name="host"/> sees of <c>_o3storage._tcp</c>: every resolved
    /// IPv4 instance as (name, TXT strings), from <c>avahi-browse --resolve --parsable --terminate</c>.
    /// </summary>
    public IReadOnlyList<(string Name, IReadOnlyList<string> Txt)> Browse(int host)
    {
        string output = Exec(host, "avahi-browse", "--resolve", "--parsable", "--terminate", "--no-db-lookup", AdvertTxt.ServiceType);
        var seen = new List<(string, IReadOnlyList<string>)>();
        foreach (string line in output.Split('\n'))
        {
            // =;eth0;IPv4;NAME;TYPE;DOMAIN;HOST;ADDRESS;PORT;"txt" "txt" ...
            string[] fields = line.Split(';', 10);
            if (fields.Length == 10 && fields[0] == "=" && fields[2] == "IPv4")
            {
                string[] txt = [.. fields[9].Split("\" \"").Select(t => t.Trim('"'))];
                seen.Add((Unescape(fields[3]), txt));
            }
        }

        return seen;
    }

    public void Dispose() => Run("down");

    /// <summary>avahi-browse's parsable output escapes bytes as \DDD (decimal) and '.' and '\' with a backslash.</summary>
    private static string Unescape(string name)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (name[i] == '\\' && i + 3 < name.Length && char.IsAsciiDigit(name[i + 1]) && char.IsAsciiDigit(name[i + 2]) && char.IsAsciiDigit(name[i + 3]))
            {
                text.Append((char)int.Parse(name.AsSpan(i + 1, 3), System.Globalization.CultureInfo.InvariantCulture));
                i += 3;
            }
            else if (name[i] == '\\' && i + 1 < name.Length)
            {
                text.Append(name[++i]);
            }
            else
            {
                text.Append(name[i]);
            }
        }

        return text.ToString();
    }

    private string Run(params string[] arguments)
    {
        if (Environment.UserName != "root")
        {
            throw new InvalidOperationException("the avahi tests need root (network namespaces); run them as make test does");
        }

        using Process process = Process.Start(StartInfo(arguments)) ?? throw new InvalidOperationException($"cannot start {_script}");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"lan.sh {string.Join(' ', arguments)} did not finish within 60 s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"lan.sh {string.Join(' ', arguments)} exited {process.ExitCode}: {error.Result}");
        }

        return output.Result;
    }

    /// <summary>lan.sh with <paramref name="arguments"/>, on this fixture's own LAN.</summary>
    private ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(_script) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["O3_LAN"] = LanName;
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }
}
