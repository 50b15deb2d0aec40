// Owns: the address form users type and see for a node ("ip" or "ip:port").
// Assumes: literal IP addresses only; names are resolved by whoever calls us, never here.
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;

namespace O3Storage.Cluster;

/// <summary>An IP address and TCP port; the text form <c>ip:port</c> is the node id users see.</summary>
public readonly record struct NodeAddress(IPAddress Ip, int Port)
{
    public IPEndPoint ToEndPoint() => new(Ip, Port);

    public override string ToString() => Ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
        ? $"[{Ip}]:{Port.ToString(CultureInfo.InvariantCulture)}"
        : $"{Ip}:{Port.ToString(CultureInfo.InvariantCulture)}";

    public static NodeAddress FromEndPoint(IPEndPoint endPoint) => new(endPoint.Address, endPoint.Port);

    /// <summary>Parses <c>ip</c>, <c>ip:port</c> or <c>[ipv6]:port</c>; a missing port becomes <paramref name="defaultPort"/>.</summary>
    public static bool TryParse(string? text, int defaultPort, out NodeAddress address, [NotNullWhen(false)] out string? error)
    {
        address = default;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "empty address";
            return false;
        }

        string host = text;
        string? portText = null;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']');
            if (close < 0)
            {
                error = $"'{text}' is missing ']'";
                return false;
            }

            host = text[1..close];
            string rest = text[(close + 1)..];
            if (rest.Length > 0)
            {
                if (!rest.StartsWith(':'))
                {
                    error = $"'{text}' is not ip or ip:port";
                    return false;
                }

                portText = rest[1..];
            }
        }
        else if (text.Count(c => c == ':') == 1)
        {
            int colon = text.IndexOf(':');
            host = text[..colon];
            portText = text[(colon + 1)..];
        }

        if (!IPAddress.TryParse(host, out IPAddress? ip) || (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && host.Count(c => c == '.') != 3))
        {
            error = $"'{host}' is not an IP address";
            return false;
        }

        int port = defaultPort;
        if (portText is not null && !TryParsePort(portText, out port))
        {
            error = $"'{portText}' is not a port (1-65535)";
            return false;
        }

        address = new NodeAddress(ip, port);
        error = null;
        return true;
    }

    public static bool TryParsePort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;
}
