namespace O3Storage.Firmware.Boards;

/// <summary>A WS2812B strip of <paramref name="Pixels"/> on /dev/spidev<paramref name="SpiBus"/>.<paramref name="ChipSelect"/>.</summary>
public sealed record Ws2812bLedSpec(int SpiBus, int ChipSelect, int Pixels) : LedSpec
{
    public override string Driver => "ws2812b";
}
