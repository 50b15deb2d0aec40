// Owns: online compaction for the life of a node: bounded CompactStep calls on a worker thread, paced
// so compaction writes at most BytesPerSecond on average (flash bandwidth stays with clients), and an
// idle wait when nothing is worth compacting.
// Faults: a step that throws (an IO error) is reported and retried after the idle wait; the loop ends
// only with its token.
namespace O3Storage.Storage;

public sealed class BackgroundCompactor
{
    public static readonly TimeSpan DefaultIdleInterval = TimeSpan.FromSeconds(5);

    private readonly BlobStore _store;
    private readonly long _bytesPerSecond;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;

    /// <param name="bytesPerSecond">Average copy rate at most; must be positive.</param>
    /// <param name="delay">How to wait (Task.Delay in a node; a recorder in tests).</param>
    public BackgroundCompactor(BlobStore store, long bytesPerSecond, Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSecond);
        _store = store;
        _bytesPerSecond = bytesPerSecond;
        _delay = delay ?? Task.Delay;
    }

    /// <summary>Bytes one step may copy: a quarter second of budget, between 64 KiB and 4 MiB, so the store's lock is held briefly.</summary>
    public long StepBytes => Math.Clamp(_bytesPerSecond / 4, 64 * 1024, 4 * 1024 * 1024);

    public TimeSpan IdleInterval { get; init; } = DefaultIdleInterval;

    /// <summary>Called after every step that did work.</summary>
    public Action<CompactionProgress>? Progress { get; init; }

    public Action<Exception>? Failed { get; init; }

    /// <summary>The share of the rate to use now, read before each pause: 1.0 normally, less on a hot board (at least 0.01).</summary>
    public Func<double> WorkFactor { get; init; } = static () => 1.0;

    /// <summary>How long to wait after copying <paramref name="bytes"/> to stay within the rate (scaled by <see cref="WorkFactor"/>).</summary>
    public TimeSpan PaceFor(long bytes) => TimeSpan.FromSeconds((double)bytes / (_bytesPerSecond * Math.Clamp(WorkFactor(), 0.01, 1.0)));

    public async Task RunAsync(CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                // The store's IO is synchronous: keep it off the caller's thread.
                CompactionProgress step = await Task.Run(() => _store.CompactStep(StepBytes), token).ConfigureAwait(false);
                if (step.Idle)
                {
                    wait = IdleInterval;
                }
                else
                {
                    Progress?.Invoke(step);
                    wait = PaceFor(step.BytesCopied);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Failed?.Invoke(e);
                wait = IdleInterval;
            }

            try
            {
                await _delay(wait, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
