// Owns: a node's side of small objects carried in the Raft entry (PutInline): when the apply loop hands one
// over and this node is one of its replicas, its content goes to the store through the StoreWriter (group
// committed with whatever else is queued) without holding the apply loop up; until that write is done the
// content is served from memory, so a read right after the commit finds it. Before a snapshot lets the log
// drop the entries, DurableAsync waits for the writes queued so far.
// Faults: a content whose CRC-32C does not match its blob reference, or a store that refuses it (full, an IO
// error), is logged and left out: this replica lacks the blob, which the scrub finds and repair rewrites
// from another. Never throws into the apply loop.
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;
using O3Storage.Node.Diagnostics;
using O3Storage.Storage;
using O3Storage.Storage.Format;

namespace O3Storage.Node.Data;

internal sealed class InlineBlobs(string selfNodeId, StoreWriter writer, ILogger logger) : IInlineBlobSink
{
    /// <summary>
    /// Contents applied but not yet stored, at most: past it the apply loop waits for the store (a slow card
    /// must not turn a burst of commits into unbounded memory).
    /// </summary>
    public const long PendingBytesMax = 32L << 20;

    private readonly ConcurrentDictionary<BlobId, ReadOnlyMemory<byte>> _pending = new();
    private long _pendingBytes;

    /// <summary>Contents applied and not yet durable in the store.</summary>
    public int Pending => _pending.Count;

    public async ValueTask AppliedAsync(PutInline put, CancellationToken token)
    {
        if (!put.Version.Replicas.Contains(selfNodeId) || put.Version.Blobs is not [var blob])
        {
            return;
        }

        var id = new BlobId(blob.BlobId);
        if (put.Content.Length != blob.LengthBytes || Crc32C.Compute(put.Content.Span) != blob.Crc32C)
        {
            NodeLog.InlineBlobNotStored(logger, id.ToString(), put.Bucket, put.Version.Key, $"its {put.Content.Length} bytes do not match the blob's length and CRC-32C");
            return;
        }

        _pending[id] = put.Content;
        Interlocked.Add(ref _pendingBytes, put.Content.Length);
        Task storing = StoreAsync(id, put);
        if (Volatile.Read(ref _pendingBytes) > PendingBytesMax)
        {
            await storing.WaitAsync(token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public Task DurableAsync(CancellationToken token) => writer.BarrierAsync().WaitAsync(token);

    /// <summary>Whether <paramref name="id"/> is applied but not yet in the store.</summary>
    public bool IsPending(BlobId id) => _pending.ContainsKey(id);

    /// <summary>
    /// This node's copy of <paramref name="id"/>, the one way to read it locally: from memory while it is
    /// applied and on its way into the store, else from the store (checksum-verified as it is read).
    /// </summary>
    /// <exception cref="BlobNotFoundException">Neither has it.</exception>
    public Stream OpenRead(BlobId id) =>
        _pending.TryGetValue(id, out ReadOnlyMemory<byte> applied) && System.Runtime.InteropServices.MemoryMarshal.TryGetArray(applied, out ArraySegment<byte> array)
            ? new MemoryStream(array.Array!, array.Offset, array.Count, writable: false)
            : writer.Store.OpenRead(id);

    private async Task StoreAsync(BlobId id, PutInline put)
    {
        try
        {
            // A restart replays the entries after the last snapshot: those stored before it are not written again.
            await writer.PutAsync(id, put.Content, unlessStoredWithCrc: put.Version.Blobs[0].Crc32C).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            NodeLog.InlineBlobNotStored(logger, id.ToString(), put.Bucket, put.Version.Key, e.Message);
        }
        finally
        {
            _pending.TryRemove(id, out _);
            Interlocked.Add(ref _pendingBytes, -put.Content.Length);
        }
    }
}
