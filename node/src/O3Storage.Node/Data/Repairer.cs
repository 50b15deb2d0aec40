// Owns: healing bad replicas in place: a node that failed to serve a blob it should hold gets a
// verified copy from another holder, under the same blob id, with no metadata change. Moving an
// object's replicas to other nodes (repair, drain, rebalance) is ReplicaMover's.
using System.Buffers;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Transport;
using O3Storage.Storage;

namespace O3Storage.Node.Data;

internal sealed class Repairer(IBlobReplicas replicas, ObjectReader reader)
{
    /// <summary>Rewrites a blob on the replica that failed to serve it, from a verified copy on another holder.</summary>
    public async Task HealAsync(BadReplica bad, IReadOnlyList<string> holders, CancellationToken token)
    {
        List<string> sources = [.. holders.Where(h => h != bad.NodeId)];
        byte[] buffer = await reader.FetchVerifiedAsync(bad.Blob, sources, _ => { }, token).ConfigureAwait(false);
        try
        {
            await replicas.StoreAsync(bad.NodeId, new BlobId(bad.Blob.BlobId), buffer.AsMemory(0, (int)bad.Blob.LengthBytes), bad.Blob.Crc32C, token).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
