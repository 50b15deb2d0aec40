using System.Text;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.CommandLine;

namespace O3Storage.Node.Tests;

public sealed class ClusterConfigTests
{
    /// <summary>Verbatim from the cluster management guide, "Create Cluster Config File".</summary>
    public const string GuideClusterJson = """
        {
          "cluster_id": "o3storage-prod",
          "nodes": [
            {
              "id": "node-1",
              "ip": "192.168.1.101",
              "port": 8080,
              "role": "leader"
            },
            {
              "id": "node-2", 
              "ip": "192.168.1.102",
              "port": 8080,
              "role": "follower"
            },
            {
              "id": "node-3",
              "ip": "192.168.1.103", 
              "port": 8080,
              "role": "follower"
            }
          ],
          "replication_factor": 3,
          "consistency_level": "strong"
        }
        """;

    private static (ClusterConfig? Config, string? Error) Parse(string json)
    {
        ClusterConfig.TryParse(Encoding.UTF8.GetBytes(json), "cluster.json", 8080, out ClusterConfig? config, out string? error);
        return (config, error);
    }

    [Fact]
    public void GuideFile_ParsesAsWritten()
    {
        (ClusterConfig? config, string? error) = Parse(GuideClusterJson);
        Assert.Null(error);
        Assert.Equal("o3storage-prod", config!.Settings.ClusterId);
        Assert.Equal(3, config.Settings.ReplicationFactor);
        Assert.Equal(ConsistencyLevel.Strong, config.Settings.Consistency);
        Assert.Equal(["192.168.1.101:8080", "192.168.1.102:8080", "192.168.1.103:8080"], config.Nodes.Select(n => n.Address.ToString()));
        Assert.Equal("leader", config.Nodes[0].Role);
    }

    [Theory]
    [InlineData("""{"cluster_id": "x", "replicaton_factor": 3}""", "replicaton_factor")]
    [InlineData("""{"replication_factor": 0}""", "replication_factor must be between 1 and 16, got 0")]
    [InlineData("""{"replication_factor": "three"}""", "not valid cluster.json")]
    [InlineData("""{"consistency_level": "weak"}""", "consistency_level must be \"strong\" or \"eventual\", got \"weak\"")]
    [InlineData("""{"nodes": [{"id": "n1", "ip": "host-1"}]}""", "node n1: ip: 'host-1' is not an IP address")]
    [InlineData("""{"nodes": [{"id": "n1", "ip": "10.0.0.1", "port": 99999}]}""", "node n1: port 99999 is not 1-65535")]
    [InlineData("""{"nodes": [{"id": "n1", "ip": "10.0.0.1", "role": "boss"}]}""", "role must be \"leader\" or \"follower\"")]
    [InlineData("""{"nodes": [{"ip": "10.0.0.1", "role": "leader"}, {"ip": "10.0.0.2", "role": "leader"}]}""", "more than one node has role \"leader\"")]
    [InlineData("""{"cluster_id": ""}""", "cluster_id must be 1-128 printable characters")]
    [InlineData("null", "holds null")]
    [InlineData("{", "not valid cluster.json")]
    public void BadFile_IsOneLineErrorNamingTheField(string json, string expected)
    {
        (ClusterConfig? config, string? error) = Parse(json);
        Assert.Null(config);
        Assert.Contains(expected, error);
    }
}
