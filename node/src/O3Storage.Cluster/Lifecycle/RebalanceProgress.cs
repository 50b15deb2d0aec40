// Owns: what GET /admin/rebalance-status reports: the leader's current pass over the placement (when
// it started, how much it has moved, how fast, how long it has left), fed by the placement loop after
// every round. A pass starts when work appears (a membership change) or an operator asks for one, and
// is done when nothing is left to move. Thread-safe; time comes from the injected clock.
using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Lifecycle;

public sealed class RebalanceProgress(TimeProvider time)
{
    /// <summary>The one strategy: every object on its rendezvous placement, which spreads objects evenly by construction.</summary>
    public const string EvenDistribution = "even_distribution";

    /// <summary>Strategies <c>POST /admin/rebalance</c> accepts.</summary>
    public static IReadOnlyList<string> Strategies { get; } = [EvenDistribution];

    /// <summary>Rounds in a row that moved nothing while every move failed: then the pass reads "failed" until one succeeds.</summary>
    public const int FailedRoundsMax = 3;

    private readonly object _gate = new();
    private string _state = "idle";
    private string _strategy = EvenDistribution;
    private string _trigger = "none";
    private DateTimeOffset? _started;
    private DateTimeOffset? _finished;
    private long _objectsMoved;
    private long _bytesMoved;
    private long _objectsTotal;
    private long _bytesTotal;
    private int _failedRounds;
    private string? _lastError;
    private PlacementSurvey? _survey;

    /// <summary>An operator asked for a pass now: a new pass starts (its counters from zero) even if one was running.</summary>
    public void Requested(string strategy)
    {
        lock (_gate)
        {
            Start(strategy, "admin");
        }
    }

    /// <summary>After a round: the survey taken before it and what it moved.</summary>
    public void Observe(PlacementSurvey survey)
    {
        lock (_gate)
        {
            _survey = survey;
            if (_state is not "running" && survey.Misplaced > 0)
            {
                Start(_strategy, "placement changed");
            }

            if (_state == "running")
            {
                _objectsTotal = Math.Max(_objectsTotal, _objectsMoved + survey.Misplaced);
                _bytesTotal = Math.Max(_bytesTotal, _bytesMoved + survey.MisplacedBytes);
                if (survey.Misplaced == 0)
                {
                    // Work can also vanish without moves (objects deleted or overwritten meanwhile): done is 100 %.
                    (_objectsTotal, _bytesTotal) = (_objectsMoved, _bytesMoved);
                    _state = "done";
                    _finished = time.GetUtcNow();
                }
            }
        }
    }

    public void Moved(long bytes)
    {
        lock (_gate)
        {
            _objectsMoved++;
            _bytesMoved += bytes;
            _failedRounds = 0;
            if (_state == "failed")
            {
                _state = "running";
            }
        }
    }

    public void Failed(string error)
    {
        lock (_gate)
        {
            _lastError = error;
        }
    }

    /// <summary>A round ended having moved nothing though moves were due and failed.</summary>
    public void RoundFailed()
    {
        lock (_gate)
        {
            if (++_failedRounds >= FailedRoundsMax && _state == "running")
            {
                _state = "failed";
            }
        }
    }

    public RebalanceStatus Snapshot(string? leader)
    {
        lock (_gate)
        {
            DateTimeOffset now = time.GetUtcNow();
            double seconds = _started is { } started ? ((_finished ?? now) - started).TotalSeconds : 0;
            double rate = seconds > 0 ? _bytesMoved / seconds : 0;
            double objectRate = seconds > 0 ? _objectsMoved / seconds : 0;
            double percent = _objectsTotal == 0 ? (_state == "idle" ? 0 : 100) : Math.Round(100.0 * _objectsMoved / _objectsTotal, 1);
            double? eta = _state != "running" ? null
                : _bytesTotal > _bytesMoved && rate > 0 ? Math.Round((_bytesTotal - _bytesMoved) / rate, 1)
                : objectRate > 0 ? Math.Round((_objectsTotal - _objectsMoved) / objectRate, 1)
                : null;
            var nodes = new List<RebalanceNode>();
            if (_survey is { } survey)
            {
                foreach ((string id, NodeLoad load) in survey.Now.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    NodeLoad target = survey.Target.GetValueOrDefault(id) ?? load;
                    nodes.Add(new RebalanceNode(id, load.Objects, load.Bytes, target.Objects, target.Bytes));
                }
            }

            return new RebalanceStatus(
                _state,
                _strategy,
                _trigger,
                leader,
                _started,
                _finished,
                _objectsTotal,
                _objectsMoved,
                _bytesTotal,
                _bytesMoved,
                percent,
                Math.Round(rate),
                Math.Round(objectRate, 2),
                eta,
                _survey?.UnderReplicated ?? 0,
                _survey?.Misplaced ?? 0,
                nodes,
                _lastError);
        }
    }

    /// <summary>The one-line summary /health shows.</summary>
    public static string Summary(RebalanceStatus status) => status.State switch
    {
        "running" => $"running: {status.ObjectsMoved} of {status.ObjectsTotal} objects moved ({status.Percent:0.#} %){(status.EtaSeconds is { } eta ? $", about {eta:0} s left" : string.Empty)}",
        "failed" => $"failed: {status.MisplacedObjects} objects still to move; {status.LastError}",
        "done" => $"done: {status.ObjectsMoved} objects moved",
        _ => "idle: every object is where placement wants it",
    };

    private void Start(string strategy, string trigger)
    {
        _state = "running";
        _strategy = strategy;
        _trigger = trigger;
        _started = time.GetUtcNow();
        _finished = null;
        _objectsMoved = 0;
        _bytesMoved = 0;
        _objectsTotal = _survey?.Misplaced ?? 0;
        _bytesTotal = _survey?.MisplacedBytes ?? 0;
        _failedRounds = 0;
        _lastError = null;
    }
}

/// <summary>One node's load now and once the pass is done.</summary>
public sealed record RebalanceNode(string NodeId, long Objects, long Bytes, long TargetObjects, long TargetBytes);

/// <summary>The body of <c>GET /admin/rebalance-status</c>. Field names are a contract: add, never rename.</summary>
public sealed record RebalanceStatus(
    string State,
    string Strategy,
    string Trigger,
    string? Leader,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    long ObjectsTotal,
    long ObjectsMoved,
    long BytesTotal,
    long BytesMoved,
    double Percent,
    double RateBytesPerSecond,
    double RateObjectsPerSecond,
    double? EtaSeconds,
    long UnderReplicatedObjects,
    long MisplacedObjects,
    IReadOnlyList<RebalanceNode> Nodes,
    string? LastError);
