namespace O3Storage.Firmware.Leds;

/// <summary>One phase of a pattern: the LED on (at the pattern's color) or off, for a duration.</summary>
public readonly record struct LedStep(bool On, int DurationMs)
{
    public override string ToString() => $"{(On ? "on" : "off")} {DurationMs} ms";
}
