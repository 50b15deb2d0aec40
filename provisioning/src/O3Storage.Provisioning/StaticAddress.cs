using System.Net;

namespace O3Storage.Provisioning;

/// <summary>A static IPv4 address for the board, instead of DHCP.</summary>
public sealed record StaticAddress(IPAddress Address, int PrefixLength, IPAddress? Gateway, IReadOnlyList<IPAddress> Dns)
{
    public override string ToString() => $"{Address}/{PrefixLength}";
}
