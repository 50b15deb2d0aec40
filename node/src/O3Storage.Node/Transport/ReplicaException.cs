// Owns: how a node-to-node blob call (or this node's own store, through the same seam) reports that a
// replica did not store or serve a blob. The data path reads only these two facts: which node, and
// whether it was full.
namespace O3Storage.Node.Transport;

/// <summary>A replica could not store or serve a blob (down, full, missing the blob, or it failed).</summary>
internal sealed class ReplicaException(string nodeId, string message, Exception? inner = null) : Exception(message, inner)
{
    public string NodeId { get; } = nodeId;

    /// <summary>The replica answered that it has no room (507): worth telling the client apart from "down".</summary>
    public bool Full { get; init; }
}
