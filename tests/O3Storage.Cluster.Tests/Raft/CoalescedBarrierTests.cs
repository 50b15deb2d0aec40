using O3Storage.Cluster.Raft;

namespace O3Storage.Cluster.Tests.Raft;

public sealed class CoalescedBarrierTests
{
    [Fact]
    public async Task ReadersArrivingDuringABarrier_ShareTheNextOne_NeverTheOneInFlight()
    {
        var started = new List<TaskCompletionSource>();
        var barrier = new CoalescedBarrier(
            _ =>
            {
                var run = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                lock (started)
                {
                    started.Add(run);
                }

                return run.Task;
            },
            TimeSpan.FromSeconds(30));

        Task first = barrier.WaitAsync(CancellationToken.None);
        await WaitForAsync(() => started.Count == 1);
        Task[] later = [.. Enumerable.Range(0, 50).Select(_ => barrier.WaitAsync(CancellationToken.None))];

        started[0].SetResult();
        await first;
        Assert.All(later, t => Assert.False(t.IsCompleted)); // the barrier they may use starts only now
        await WaitForAsync(() => started.Count == 2);
        started[1].SetResult();
        await Task.WhenAll(later);
        Assert.Equal(2, started.Count); // 51 readers, two barriers

        await WaitForAsync(() => true);
        Task alone = barrier.WaitAsync(CancellationToken.None);
        await WaitForAsync(() => started.Count == 3);
        started[2].SetException(new InvalidOperationException("no leader"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => alone);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        // Bounded generously: the thread pool is shared with test classes running in parallel.
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); !condition() && waited.Elapsed < TimeSpan.FromSeconds(30);)
        {
            await Task.Delay(5);
        }

        Assert.True(condition());
    }
}
