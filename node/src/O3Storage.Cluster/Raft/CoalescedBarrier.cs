// Owns: sharing read barriers among concurrent readers. A linearizable read needs a barrier that
// started after the read arrived; a barrier already in flight started before, so readers arriving
// meanwhile wait for the next one, and one barrier then serves all of them. Under load a follower
// sends one barrier request per round trip to the leader instead of one per read (64 concurrent GETs
// used to queue 40-odd barrier requests on the leader connection until they timed out).
namespace O3Storage.Cluster.Raft;

public sealed class CoalescedBarrier(Func<CancellationToken, Task> barrier, TimeSpan timeout)
{
    private readonly object _gate = new();
    private TaskCompletionSource? _waiting;
    private bool _running;

    /// <summary>Completes once a barrier that started after this call has completed.</summary>
    public Task WaitAsync(CancellationToken token)
    {
        TaskCompletionSource group;
        lock (_gate)
        {
            group = _waiting ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_running)
            {
                return group.Task.WaitAsync(token); // runs after the barrier in flight
            }

            _running = true;
        }

        _ = Task.Run(PumpAsync, CancellationToken.None);
        return group.Task.WaitAsync(token);
    }

    private async Task PumpAsync()
    {
        while (true)
        {
            TaskCompletionSource group;
            lock (_gate)
            {
                if (_waiting is null)
                {
                    _running = false;
                    return;
                }

                group = _waiting;
                _waiting = null; // readers from now on wait for the next barrier
            }

            using var deadline = new CancellationTokenSource(timeout);
            try
            {
                await barrier(deadline.Token).ConfigureAwait(false);
                group.TrySetResult();
            }
            catch (Exception e)
            {
                group.TrySetException(e);
            }
        }
    }
}
