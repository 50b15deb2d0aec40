// Owns: which pattern an LED shows and, for drivers that cannot run a pattern by themselves, the
// phase changes at the step boundaries, on an injected clock.
// Assumes: the animator owns its driver (disposes it) and is its only caller. Phases are computed
// from the pattern's start time, not by adding up timer delays, so a late timer never makes the
// rhythm drift: it shows the phase that is current when it fires and waits for the next boundary.
// Faults: driver errors (LED unplugged, permission lost) are caught, kept in LastError and retried
// at the next boundary or status change; they never reach the caller or a timer thread.
namespace O3Storage.Firmware.Leds;

public sealed class LedAnimator : IDisposable
{
    private readonly ILedDriver _driver;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private LedPattern? _pattern;
    private long _startTimestamp;
    private int _stepIndex = -1;
    private int _generation;
    private ITimer? _timer;
    private string? _lastError;
    private bool _disposed;

    /// <param name="driver">The LED; the animator owns it from now on and disposes it.</param>
    /// <param name="time">The clock for the step boundaries.</param>
    public LedAnimator(ILedDriver driver, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(driver);
        ArgumentNullException.ThrowIfNull(time);
        _driver = driver;
        _time = time;
    }

    public string DriverName => _driver.Name;

    /// <summary>The pattern shown now, or null before the first <see cref="Show"/>.</summary>
    public LedPattern? Pattern
    {
        get
        {
            lock (_lock)
            {
                return _pattern;
            }
        }
    }

    /// <summary>The last driver error, cleared by the next successful change; null when the LED works.</summary>
    public string? LastError
    {
        get
        {
            lock (_lock)
            {
                return _lastError;
            }
        }
    }

    /// <summary>Switches to <paramref name="pattern"/> at once, starting with its first step; showing the current pattern again changes nothing.</summary>
    public void Show(LedPattern pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // The same pattern again changes nothing, unless the last attempt failed: then it is a retry.
            if (pattern.Equals(_pattern) && _lastError is null)
            {
                return;
            }

            _pattern = pattern;
            _generation++;
            _timer?.Dispose();
            _timer = null;
            _stepIndex = -1;
            _startTimestamp = _time.GetTimestamp();
            // A driver may find out only when it tries that it cannot run a pattern after all (the
            // kernel's blink delays belong to root): then CanRun turns false and the phases are stepped here.
            if (_driver.CanRun(pattern) && (Drive(() => _driver.Run(pattern)) || _driver.CanRun(pattern)))
            {
                return;
            }

            Advance();
        }
    }

    /// <summary>Stops the timer, then disposes the driver, which leaves the LED off or in the board's default state.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _generation++;
            _timer?.Dispose();
            _timer = null;
            _driver.Dispose();
        }
    }

    private void OnTimer(int generation)
    {
        lock (_lock)
        {
            // A callback of a replaced timer can still run once after Dispose of that timer.
            if (_disposed || generation != _generation)
            {
                return;
            }

            Advance();
        }
    }

    /// <summary>Shows the phase that is current now and arms the timer for the next boundary. Caller holds the lock.</summary>
    private void Advance()
    {
        LedPattern pattern = _pattern!;
        long periodTicks = TimeSpan.FromMilliseconds(pattern.PeriodMs).Ticks;
        long positionTicks = _time.GetElapsedTime(_startTimestamp).Ticks % periodTicks;
        int index = 0;
        long stepEndTicks = TimeSpan.FromMilliseconds(pattern.Steps[0].DurationMs).Ticks;
        while (positionTicks >= stepEndTicks)
        {
            index++;
            stepEndTicks += TimeSpan.FromMilliseconds(pattern.Steps[index].DurationMs).Ticks;
        }

        if (index != _stepIndex)
        {
            LedStep step = pattern.Steps[index];
            if (Drive(() => _driver.SetPhase(step.On, pattern.Color)))
            {
                _stepIndex = index;
            }
        }

        if (pattern.IsSteady)
        {
            // Nothing changes until the next Show; a failed write is retried then.
            return;
        }

        TimeSpan untilNextStep = TimeSpan.FromTicks(stepEndTicks - positionTicks);
        if (_timer is null)
        {
            int generation = _generation;
            _timer = _time.CreateTimer(_ => OnTimer(generation), null, untilNextStep, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _timer.Change(untilNextStep, Timeout.InfiniteTimeSpan);
        }
    }

    private bool Drive(Action change)
    {
        try
        {
            change();
            _lastError = null;
            return true;
        }
        catch (LedDriverException e)
        {
            _lastError = e.Message;
            return false;
        }
    }
}
