// Owns: reading the guide's cluster.json (cluster_id, nodes, replication_factor, consistency_level).
// Faults: unknown fields, wrong types and out-of-range values are one-line errors naming the field,
// because a typo in a config file must not silently fall back to a default.
using System.Text.Json;
using System.Text.Json.Serialization;
using O3Storage.Cluster;
using O3Storage.Cluster.Metadata;

namespace O3Storage.Node.CommandLine;

public sealed record ClusterConfigNode(string? Id, string? Ip, int? Port, string? Role);

public sealed record ClusterConfigDocument(
    string? ClusterId,
    IReadOnlyList<ClusterConfigNode>? Nodes,
    int? ReplicationFactor,
    string? ConsistencyLevel);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(ClusterConfigDocument))]
internal sealed partial class ClusterConfigJsonContext : JsonSerializerContext;

/// <summary>A validated cluster.json.</summary>
public sealed record ClusterConfig(ClusterSettings Settings, IReadOnlyList<(NodeAddress Address, string Role)> Nodes)
{
    public const int FileSizeBytesMax = 1024 * 1024;

    public static bool TryLoad(string path, int defaultPort, out ClusterConfig? config, out string? error)
    {
        config = null;
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                error = $"--config {path}: no such file";
                return false;
            }

            if (info.Length > FileSizeBytesMax)
            {
                error = $"--config {path}: file is larger than {FileSizeBytesMax} bytes";
                return false;
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"--config {path}: {e.Message}";
            return false;
        }

        return TryParse(bytes, path, defaultPort, out config, out error);
    }

    public static bool TryParse(ReadOnlySpan<byte> json, string path, int defaultPort, out ClusterConfig? config, out string? error)
    {
        config = null;
        ClusterConfigDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, ClusterConfigJsonContext.Default.ClusterConfigDocument);
        }
        catch (JsonException e)
        {
            error = $"--config {path}: not valid cluster.json: {e.Message}";
            return false;
        }

        if (document is null)
        {
            error = $"--config {path}: the file holds null, expected an object";
            return false;
        }

        string clusterId = document.ClusterId ?? ClusterSettings.DefaultClusterId;
        if (clusterId.Length == 0 || clusterId.Length > ClusterSettings.ClusterIdLengthMax || clusterId.Any(char.IsControl))
        {
            error = $"--config {path}: cluster_id must be 1-{ClusterSettings.ClusterIdLengthMax} printable characters";
            return false;
        }

        int replication = document.ReplicationFactor ?? ClusterSettings.DefaultReplicationFactor;
        if (replication is < 1 or > ClusterSettings.ReplicationFactorMax)
        {
            error = $"--config {path}: replication_factor must be between 1 and {ClusterSettings.ReplicationFactorMax}, got {replication}";
            return false;
        }

        ConsistencyLevel consistency = ConsistencyLevel.Strong;
        if (document.ConsistencyLevel is not null && !ConsistencyLevelNames.TryParse(document.ConsistencyLevel, out consistency))
        {
            error = $"--config {path}: consistency_level must be \"strong\" or \"eventual\", got \"{document.ConsistencyLevel}\"";
            return false;
        }

        var nodes = new List<(NodeAddress, string)>();
        foreach (ClusterConfigNode node in document.Nodes ?? [])
        {
            string label = node.Id ?? node.Ip ?? "?";
            if (!NodeAddress.TryParse(node.Ip, node.Port ?? defaultPort, out NodeAddress address, out string? addressError))
            {
                error = $"--config {path}: node {label}: ip: {addressError}";
                return false;
            }

            if (node.Port is { } port && !NodeAddress.TryParsePort(port.ToString(System.Globalization.CultureInfo.InvariantCulture), out _))
            {
                error = $"--config {path}: node {label}: port {port} is not 1-65535";
                return false;
            }

            string role = node.Role ?? "follower";
            if (role is not ("leader" or "follower"))
            {
                error = $"--config {path}: node {label}: role must be \"leader\" or \"follower\", got \"{role}\"";
                return false;
            }

            nodes.Add((address, role));
        }

        if (nodes.Count(n => n.Item2 == "leader") > 1)
        {
            error = $"--config {path}: more than one node has role \"leader\"; exactly one node bootstraps";
            return false;
        }

        config = new ClusterConfig(new ClusterSettings(clusterId, replication, consistency), nodes);
        error = null;
        return true;
    }
}
