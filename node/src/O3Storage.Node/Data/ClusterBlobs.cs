// Owns: IBlobReplicas over the real cluster: this node's blobs through its StoreWriter (writes) and
// BlobStore (reads, and InlineBlobs for a small object applied but not yet in the store); every other
// node's through PeerClient and its /internal/blobs endpoint.
using O3Storage.Node.Transport;
using O3Storage.Storage;

namespace O3Storage.Node.Data;

internal sealed class ClusterBlobs(string selfNodeId, StoreWriter writer, InlineBlobs inline, PeerClient peers, Func<string?> bearer, Diagnostics.NodeMetrics? metrics = null) : IBlobReplicas
{
    public async Task StoreAsync(string nodeId, BlobId id, ReadOnlyMemory<byte> content, uint crc32C, CancellationToken token)
    {
        if (nodeId != selfNodeId)
        {
            await peers.PutBlobAsync(nodeId, id, content, crc32C, bearer(), token).ConfigureAwait(false);
            return;
        }

        try
        {
            await writer.PutAsync(id, content).ConfigureAwait(false);
        }
        catch (StorageFullException e)
        {
            throw new ReplicaException(nodeId, e.Message, e) { Full = true };
        }
        catch (StorageException e)
        {
            throw new ReplicaException(nodeId, e.Message, e);
        }
    }

    public async Task FetchAsync(string nodeId, BlobId id, Memory<byte> destination, CancellationToken token)
    {
        if (nodeId != selfNodeId)
        {
            await peers.GetBlobAsync(nodeId, id, destination, bearer(), token).ConfigureAwait(false);
            return;
        }

        try
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            await using Stream blob = inline.OpenRead(id);
            if (blob.Length != destination.Length)
            {
                throw new ReplicaException(nodeId, $"blob {id} holds {blob.Length} bytes, metadata says {destination.Length}");
            }

            await blob.ReadExactlyAsync(destination, token).ConfigureAwait(false);
            metrics?.BlobRead(destination.Length, started);
        }
        catch (StorageException e)
        {
            throw new ReplicaException(nodeId, e.Message, e);
        }
        catch (IOException e)
        {
            throw new ReplicaException(nodeId, $"reading blob {id}: {e.Message}", e);
        }
    }

    public async Task DeleteAsync(string nodeId, BlobId id, CancellationToken token)
    {
        if (nodeId != selfNodeId)
        {
            await peers.DeleteBlobAsync(nodeId, id, bearer(), token).ConfigureAwait(false);
            return;
        }

        await writer.DeleteAsync(id).ConfigureAwait(false);
    }
}
