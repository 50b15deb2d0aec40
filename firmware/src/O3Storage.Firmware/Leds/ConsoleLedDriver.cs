namespace O3Storage.Firmware.Leds;

/// <summary>
/// The LED of a machine without one (a laptop, CI, QEMU): drives nothing, but keeps the pattern it
/// would show so /health can still report it.
/// </summary>
public sealed class ConsoleLedDriver : ILedDriver
{
    private volatile LedPattern? _pattern;

    public string Name => "console";

    /// <summary>The last pattern handed over, or null before the first.</summary>
    public LedPattern? Pattern => _pattern;

    public bool CanRun(LedPattern pattern) => true;

    public void Run(LedPattern pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        _pattern = pattern;
    }

    public void SetPhase(bool on, LedColor color)
    {
    }

    public void Dispose()
    {
    }
}
