// Owns: this node's share of the cluster's life after formation, as the admin edge, /health and the
// placement loop see it: the latest placement survey, the leader's rebalance progress, the one removal
// at a time the leader runs, and whether this node itself was removed (then it stops serving; the
// marker in --data makes a restart refuse). Thread-safe.
using O3Storage.Cluster.Lifecycle;

namespace O3Storage.Node.Hosting;

internal sealed class NodeLifecycle(TimeProvider time, TimeSpan deadNodeGrace)
{
    private readonly TaskCompletionSource<string> _removed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private volatile PlacementSurvey? _survey;

    public TimeSpan DeadNodeGrace => deadNodeGrace;

    /// <summary>The leader's rebalance pass (followers keep an idle one: they forward the status call).</summary>
    public RebalanceProgress Rebalance { get; } = new(time);

    /// <summary>Held by the leader while it handles one removal: a second one at the same time is refused (409).</summary>
    public SemaphoreSlim Removals { get; } = new(1, 1);

    /// <summary>The last survey this node made (every node makes its own, for /health); null before the first.</summary>
    public PlacementSurvey? Survey
    {
        get => _survey;
        set => _survey = value;
    }

    /// <summary>Completes, with the reason, when this node learns the cluster removed it.</summary>
    public Task<string> Removed => _removed.Task;

    public bool IsRemoved => _removed.Task.IsCompleted;

    public void MarkRemoved(string reason) => _removed.TrySetResult(reason);

    /// <summary>Asks the placement loop for a round now (a removal, a rebalance request).</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // A wake is pending already.
        }
    }

    /// <summary>Waits until <see cref="Wake"/> or <paramref name="interval"/> passes.</summary>
    public async Task SleepAsync(TimeSpan interval, CancellationToken token) =>
        await _wake.WaitAsync(interval, token).ConfigureAwait(false);
}
