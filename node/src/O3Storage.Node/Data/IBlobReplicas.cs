// Owns: the one seam between the object data path and where blobs live: this node's store or a peer's
// over /internal/blobs. ObjectWriter and ObjectReader see only this, so their logic (fan-out, fallback,
// checksums) is tested without sockets or devices.
using O3Storage.Storage;

namespace O3Storage.Node.Data;

/// <summary>A replica could not store or serve a blob (down, full, missing the blob, or it failed).</summary>
internal sealed class ReplicaException(string nodeId, string message, Exception? inner = null) : Exception(message, inner)
{
    public string NodeId { get; } = nodeId;

    /// <summary>The replica answered that it has no room (507): worth telling the client apart from "down".</summary>
    public bool Full { get; init; }
}

internal interface IBlobReplicas
{
    /// <summary>Stores <paramref name="content"/> as <paramref name="id"/> on <paramref name="nodeId"/>, durably when it returns; the holder checks <paramref name="crc32C"/>.</summary>
    /// <exception cref="ReplicaException">The node did not store it.</exception>
    Task StoreAsync(string nodeId, BlobId id, ReadOnlyMemory<byte> content, uint crc32C, CancellationToken token);

    /// <summary>Reads the whole blob <paramref name="id"/> from <paramref name="nodeId"/> into <paramref name="destination"/>, which is exactly its length. The caller verifies the checksum.</summary>
    /// <exception cref="ReplicaException">The node could not serve it (down, no such blob, short).</exception>
    Task FetchAsync(string nodeId, BlobId id, Memory<byte> destination, CancellationToken token);

    /// <summary>Deletes <paramref name="id"/> on <paramref name="nodeId"/>, best effort (the collector gets what this misses).</summary>
    Task DeleteAsync(string nodeId, BlobId id, CancellationToken token);
}
