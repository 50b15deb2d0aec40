// Owns: every write to this node's BlobStore, on one dedicated thread. The store serializes writes
// under its lock and blocks on the device; queueing them here keeps HTTP and pool threads from piling
// up behind that lock (64 clients would otherwise park 64 pool threads and starve the server).
// Faults: a write's exception goes to its caller's task; the thread keeps serving the next one.
using System.Collections.Concurrent;
using O3Storage.Storage;

namespace O3Storage.Node.Data;

internal sealed class StoreWriter : IDisposable
{
    private readonly BlockingCollection<Action> _queue = new();
    private readonly Thread _thread;

    public StoreWriter(BlobStore store)
    {
        Store = store;
        _thread = new Thread(Run) { IsBackground = true, Name = "o3-store-writer" };
        _thread.Start();
    }

    public BlobStore Store { get; }

    /// <summary>Stores <paramref name="length"/> bytes of <paramref name="buffer"/> as <paramref name="id"/>; durable when the task completes.</summary>
    public Task<BlobInfo> PutAsync(BlobId id, byte[] buffer, int offset, int length) =>
        RunAsync(() =>
        {
            using var content = new MemoryStream(buffer, offset, length, writable: false);
            return Store.Put(id, content, length);
        });

    public Task<bool> DeleteAsync(BlobId id) => RunAsync(() => Store.Delete(id));

    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join();
        _queue.Dispose();
    }

    private Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _queue.Add(() =>
            {
                try
                {
                    done.SetResult(work());
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            });
        }
        catch (InvalidOperationException)
        {
            done.SetException(new ObjectDisposedException(nameof(StoreWriter), "the node is stopping"));
        }

        return done.Task;
    }

    private void Run()
    {
        foreach (Action work in _queue.GetConsumingEnumerable())
        {
            work();
        }
    }
}
