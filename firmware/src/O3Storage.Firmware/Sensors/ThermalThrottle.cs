// Owns: how much background work (repair, compaction, scrubbing) a board may do at a temperature.
// Assumes: foreground requests are never throttled here; only background rates are multiplied by
// the factor. A Raspberry Pi 4 throttles its CPU itself at 80–85 °C, so backing off earlier keeps
// client latency steady.
// Faults: none; an unknown temperature means full speed (no sensor must not slow a cluster down).
using O3Storage.Firmware.Boards;

namespace O3Storage.Firmware.Sensors;

public static class ThermalThrottle
{
    /// <summary>Never 0: repair of under-replicated data must still progress on a hot board.</summary>
    public const double FactorMin = 0.1;

    /// <summary>1.0 below the soft limit, linear down to <see cref="FactorMin"/> at the hard limit, <see cref="FactorMin"/> above.</summary>
    public static double BackgroundWorkFactor(double? celsius, ThrottleLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(limits.SoftCelsius, limits.HardCelsius, nameof(limits));
        if (celsius is not { } t || double.IsNaN(t) || t <= limits.SoftCelsius)
        {
            return 1.0;
        }

        if (t >= limits.HardCelsius)
        {
            return FactorMin;
        }

        double hotness = (t - limits.SoftCelsius) / (limits.HardCelsius - limits.SoftCelsius);
        return 1.0 - (hotness * (1.0 - FactorMin));
    }
}
