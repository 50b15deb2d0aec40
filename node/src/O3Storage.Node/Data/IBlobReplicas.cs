// Owns: the one seam between the object data path and where blobs live: this node's store or a peer's
// over /internal/blobs. ObjectWriter and ObjectReader see only this, so their logic (fan-out, fallback,
// checksums) is tested without sockets or devices.
using O3Storage.Node.Transport;
using O3Storage.Storage;

namespace O3Storage.Node.Data;

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
