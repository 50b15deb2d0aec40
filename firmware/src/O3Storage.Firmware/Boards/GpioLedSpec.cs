namespace O3Storage.Firmware.Boards;

/// <summary>An LED on GPIO <paramref name="Pin"/> of /dev/gpiochip<paramref name="Chip"/>.</summary>
public sealed record GpioLedSpec(int Pin, bool ActiveLow, int Chip) : LedSpec
{
    public override string Driver => "gpio";
}
