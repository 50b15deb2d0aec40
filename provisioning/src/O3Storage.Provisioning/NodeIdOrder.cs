using System.Net;

namespace O3Storage.Provisioning;

/// <summary>
/// The order in which node ids (<c>ip:port</c>) are "lowest": by address bytes (IPv4 before IPv6),
/// then port, then ordinal text for anything unparsable. Every node computes the same order.
/// </summary>
public sealed class NodeIdOrder : IComparer<string>
{
    public static readonly NodeIdOrder Instance = new();

    private NodeIdOrder()
    {
    }

    /// <summary>A node id as adverts must carry it: <c>ip:port</c> with a port.</summary>
    public static bool TryParse(string? nodeId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPEndPoint? endPoint)
    {
        endPoint = null;
        return nodeId is not null && nodeId.Contains(':', StringComparison.Ordinal)
            && IPEndPoint.TryParse(nodeId, out endPoint) && endPoint.Port != 0;
    }

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null || y is null)
        {
            return x is null ? -1 : 1;
        }

        bool xParsed = IPEndPoint.TryParse(x, out IPEndPoint? xEndPoint);
        bool yParsed = IPEndPoint.TryParse(y, out IPEndPoint? yEndPoint);
        if (!xParsed || !yParsed)
        {
            return xParsed != yParsed ? (xParsed ? -1 : 1) : string.CompareOrdinal(x, y);
        }

        byte[] xBytes = xEndPoint!.Address.MapToIPv6().GetAddressBytes();
        byte[] yBytes = yEndPoint!.Address.MapToIPv6().GetAddressBytes();
        int byAddress = xBytes.AsSpan().SequenceCompareTo(yBytes);
        return byAddress != 0 ? byAddress : xEndPoint.Port.CompareTo(yEndPoint.Port);
    }
}
