namespace O3Storage.Firmware;

/// <summary>What the board shows and measures, for /health and /metrics.</summary>
/// <param name="Board">The profile name ("raspberry-pi-4"), or "no board".</param>
/// <param name="LedDriver">"sysfs:ACT", "gpio:17", "ws2812b:spi0.0" or "console".</param>
/// <param name="LedPattern">The pattern shown (or, on the console driver, that would be shown), e.g. "leader".</param>
/// <param name="TemperatureCelsius">The board temperature, or null without a sensor.</param>
/// <param name="TemperatureSource">Where it comes from, e.g. "thermal_zone0 (cpu-thermal)", or "no sensor: why".</param>
/// <param name="BackgroundWorkFactor">1.0 at normal temperatures, down to 0.1 when hot; multiply background work rates by it.</param>
public sealed record HardwareSnapshot(
    string Board,
    string LedDriver,
    string LedPattern,
    double? TemperatureCelsius,
    string TemperatureSource,
    double BackgroundWorkFactor);
