namespace O3Storage.Firmware.Boards;

/// <summary>Background work slows down from <paramref name="SoftCelsius"/> and is at its minimum from <paramref name="HardCelsius"/>.</summary>
public sealed record ThrottleLimits(double SoftCelsius, double HardCelsius)
{
    /// <summary>70 °C and 80 °C: below the 80–85 °C at which a Raspberry Pi 4 throttles its own CPU.</summary>
    public static ThrottleLimits Default { get; } = new(70, 80);
}
