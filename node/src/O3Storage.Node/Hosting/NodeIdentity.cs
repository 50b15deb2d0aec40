// Owns: node.json in the data directory: the stable UUID of this node and the addresses it was
// created with. A data directory moved to another address is refused, because Raft knows members
// by their cluster endpoint and a silent change would split the node's identity.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace O3Storage.Node.Hosting;

public sealed record NodeIdentity(int FormatVersion, Guid Uuid, string NodeId, string ClusterEndpoint);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(NodeIdentity))]
internal sealed partial class NodeIdentityJsonContext : JsonSerializerContext;

internal static class NodeIdentityStore
{
    public const int FormatVersion = 1;

    /// <summary>The UUID in node.json for display before the node has checked it (all zeros: none yet, or unreadable; the start checks it later).</summary>
    public static Guid PeekUuid(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), NodeIdentityJsonContext.Default.NodeIdentity)?.Uuid ?? Guid.Empty : Guid.Empty;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return Guid.Empty;
        }
    }

    public static NodeIdentity LoadOrCreate(string path, string nodeId, string clusterEndPoint)
    {
        if (!File.Exists(path))
        {
            var created = new NodeIdentity(FormatVersion, Guid.NewGuid(), nodeId, clusterEndPoint);
            AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(created, NodeIdentityJsonContext.Default.NodeIdentity));
            return created;
        }

        NodeIdentity? identity;
        try
        {
            identity = JsonSerializer.Deserialize(File.ReadAllBytes(path), NodeIdentityJsonContext.Default.NodeIdentity);
        }
        catch (JsonException e)
        {
            throw new StartupException($"{path} is damaged ({e.Message}); restore it from a backup or start on an empty --data");
        }

        if (identity is null || identity.FormatVersion != FormatVersion || identity.Uuid == Guid.Empty)
        {
            throw new StartupException($"{path} has an unknown format; this node reads format {FormatVersion}");
        }

        if (identity.NodeId != nodeId || identity.ClusterEndpoint != clusterEndPoint)
        {
            throw new StartupException(
                $"--data belongs to node {identity.NodeId} (cluster endpoint {identity.ClusterEndpoint}), not {nodeId} ({clusterEndPoint}); start with the matching --ip/--port/--cluster-port or use another --data");
        }

        return identity;
    }
}
