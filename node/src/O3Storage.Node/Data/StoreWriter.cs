// Owns: every write to this node's BlobStore, on one dedicated thread. The store serializes writes
// under its lock and blocks on the device; queueing them here keeps HTTP and pool threads from piling
// up behind that lock (64 clients would otherwise park 64 pool threads and starve the server). It is
// also where group commit happens: small puts that queued up while the device was busy go to it as
// one batch, one durable write for all of them.
// Faults: a write's exception goes to its caller's task; the thread keeps serving the next one. A batch
// that fails (a full store) is retried one put at a time, so each caller gets its own answer.
using System.Collections.Concurrent;
using O3Storage.Storage;

namespace O3Storage.Node.Data;

internal sealed class StoreWriter : IDisposable
{
    private readonly BlockingCollection<Work> _queue = new();
    private readonly Thread _thread;

    private readonly Diagnostics.NodeMetrics? _metrics;

    public StoreWriter(BlobStore store, Diagnostics.NodeMetrics? metrics = null)
    {
        Store = store;
        _metrics = metrics;
        _thread = new Thread(Run) { IsBackground = true, Name = "o3-store-writer" };
        _thread.Start();
    }

    public BlobStore Store { get; }

    /// <summary>Stores <paramref name="content"/> as <paramref name="id"/>; durable when the task completes. The caller keeps <paramref name="content"/> unchanged until then.</summary>
    /// <param name="unlessStoredWithCrc">Skip the write when the store already holds <paramref name="id"/> with this length and CRC-32C (a replayed log entry); checked on the writer's thread, which the store's lock is free for.</param>
    public async Task<BlobInfo> PutAsync(BlobId id, ReadOnlyMemory<byte> content, uint? unlessStoredWithCrc = null)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        BlobInfo stored = await Enqueue(new Put(id, content, unlessStoredWithCrc)).ConfigureAwait(false);
        _metrics?.BlobWritten(content.Length, started);
        return stored;
    }

    public Task<bool> DeleteAsync(BlobId id) => Enqueue(new Delete(id));

    /// <summary>Completes once every write queued before it has finished (each durable, or failed to its caller).</summary>
    public Task BarrierAsync() => Enqueue(new Barrier());

    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join();
        _queue.Dispose();
    }

    private Task<T> Enqueue<T>(Work<T> work)
    {
        try
        {
            _queue.Add(work);
        }
        catch (InvalidOperationException)
        {
            work.Fail(new ObjectDisposedException(nameof(StoreWriter), "the node is stopping"));
        }

        return work.Task;
    }

    private void Run()
    {
        var batch = new List<Put>();
        Work? carried = null;
        while (carried is not null || _queue.TryTake(out carried, Timeout.Infinite))
        {
            Work work = carried;
            carried = null;
            if (StoredAlready(work))
            {
                continue;
            }

            if (work is not Put first || !Store.Batchable(first.Content.Length))
            {
                work.Execute(Store);
                continue;
            }

            // Group commit: this put and the small puts queued behind it, up to one batch.
            batch.Clear();
            batch.Add(first);
            long bytes = Record(first);
            while (_queue.TryTake(out Work? next))
            {
                if (StoredAlready(next))
                {
                    continue;
                }

                if (next is Put put && Store.Batchable(put.Content.Length) && bytes + Record(put) <= BlobStore.BatchBytesMax)
                {
                    batch.Add(put);
                    bytes += Record(put);
                    continue;
                }

                carried = next; // keeps queue order: a delete or a large put waits for the batch before it
                break;
            }

            if (batch.Count == 1)
            {
                first.Execute(Store);
                continue;
            }

            try
            {
                IReadOnlyList<BlobInfo> stored = Store.PutBatch([.. batch.Select(p => (p.Id, p.Content))]);
                for (int i = 0; i < batch.Count; i++)
                {
                    batch[i].Complete(stored[i]);
                }
            }
            catch (Exception)
            {
                foreach (Put put in batch)
                {
                    put.Execute(Store);
                }
            }
        }
    }

    /// <summary>A put of a replayed log entry whose blob the store holds already: answered with it, nothing written.</summary>
    private bool StoredAlready(Work work)
    {
        if (work is Put { UnlessStoredWithCrc: not null } replayed && replayed.AlreadyStored(Store) is { } existing)
        {
            replayed.Complete(existing);
            return true;
        }

        return false;
    }

    private static long Record(Put put) => BlobStore.RecordBytes(put.Content.Length);

    private abstract class Work
    {
        public abstract void Execute(BlobStore store);
    }

    private abstract class Work<T> : Work
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Task => _done.Task;

        public sealed override void Execute(BlobStore store)
        {
            try
            {
                _done.SetResult(Run(store));
            }
            catch (Exception e)
            {
                _done.SetException(e);
            }
        }

        public void Complete(T result) => _done.SetResult(result);

        public void Fail(Exception e) => _done.SetException(e);

        protected abstract T Run(BlobStore store);
    }

    private sealed class Put(BlobId id, ReadOnlyMemory<byte> content, uint? unlessStoredWithCrc) : Work<BlobInfo>
    {
        public BlobId Id { get; } = id;

        public ReadOnlyMemory<byte> Content { get; } = content;

        public uint? UnlessStoredWithCrc { get; } = unlessStoredWithCrc;

        /// <summary>The blob as the store holds it already, with this length and CRC-32C; null: it must be written.</summary>
        public BlobInfo? AlreadyStored(BlobStore store) =>
            store.TryStat(Id, out BlobInfo? info) && info!.LengthBytes == Content.Length && info.Crc32C == UnlessStoredWithCrc ? info : null;

        protected override BlobInfo Run(BlobStore store)
        {
            // The chunk is a pooled byte[] underneath: the store reads it as a stream without a copy.
            ArraySegment<byte> array = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(Content, out ArraySegment<byte> segment) ? segment : Content.ToArray();
            using var stream = new MemoryStream(array.Array!, array.Offset, array.Count, writable: false);
            return store.Put(Id, stream, Content.Length);
        }
    }

    private sealed class Barrier : Work<bool>
    {
        protected override bool Run(BlobStore store) => true; // the queue is in order: what came before is done
    }

    private sealed class Delete(BlobId id) : Work<bool>
    {
        protected override bool Run(BlobStore store) => store.Delete(id);
    }
}
