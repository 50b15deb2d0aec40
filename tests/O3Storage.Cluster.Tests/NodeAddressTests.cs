using System.Net;
using O3Storage.Cluster;

namespace O3Storage.Cluster.Tests;

public sealed class NodeAddressTests
{
    [Theory]
    [InlineData("192.168.1.101", 8080, "192.168.1.101:8080")]
    [InlineData("192.168.1.101:9000", 8080, "192.168.1.101:9000")]
    [InlineData(" 10.0.0.1 ", 8080, "10.0.0.1:8080")]
    [InlineData("[::1]:8081", 8080, "[::1]:8081")]
    [InlineData("::1", 8080, "[::1]:8080")]
    public void TryParse_GuideForms_ParseToNodeId(string text, int defaultPort, string expected)
    {
        Assert.True(NodeAddress.TryParse(text, defaultPort, out NodeAddress address, out string? error), error);
        Assert.Equal(expected, address.ToString());
    }

    [Theory]
    [InlineData("", "empty address")]
    [InlineData("node-1", "is not an IP address")]
    [InlineData("192.168.1", "is not an IP address")]
    [InlineData("192.168.1.101:0", "is not a port")]
    [InlineData("192.168.1.101:70000", "is not a port")]
    [InlineData("192.168.1.101:80a", "is not a port")]
    [InlineData("[::1", "missing ']'")]
    public void TryParse_Malformed_SaysWhy(string text, string reason)
    {
        Assert.False(NodeAddress.TryParse(text, 8080, out _, out string? error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void FromEndPoint_RoundTripsThroughText()
    {
        var address = NodeAddress.FromEndPoint(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 8090));
        Assert.True(NodeAddress.TryParse(address.ToString(), 1, out NodeAddress parsed, out _));
        Assert.Equal(address, parsed);
    }
}
