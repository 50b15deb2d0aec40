namespace O3Storage.Firmware.Leds;

/// <summary>
/// One status LED. The <see cref="LedAnimator"/> is its only caller and calls it under its lock, so
/// implementations need not be thread-safe. Errors while showing are <see cref="LedDriverException"/>;
/// <see cref="IDisposable.Dispose"/> never throws and leaves the LED in a defined state (off, or the
/// board's own default for a kernel LED).
/// </summary>
public interface ILedDriver : IDisposable
{
    /// <summary>What drives the LED, for /health: "sysfs:ACT", "gpio:17", "ws2812b:spi0.0", "console".</summary>
    string Name { get; }

    /// <summary>True when the driver runs this pattern by itself (the kernel's timer trigger), so it is handed over once.</summary>
    bool CanRun(LedPattern pattern);

    /// <summary>Shows the whole pattern until the next call; only called when <see cref="CanRun"/> is true.</summary>
    void Run(LedPattern pattern);

    /// <summary>Shows one phase: on at <paramref name="color"/> (single-color LEDs ignore it) or off.</summary>
    void SetPhase(bool on, LedColor color);
}
