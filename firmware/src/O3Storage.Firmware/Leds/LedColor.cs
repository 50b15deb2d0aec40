namespace O3Storage.Firmware.Leds;

/// <summary>An RGB color for addressable LEDs; single-color LEDs only use on and off.</summary>
public readonly record struct LedColor(byte R, byte G, byte B)
{
    public static LedColor Black => new(0, 0, 0);
    public static LedColor White => new(255, 255, 255);
    public static LedColor Cyan => new(0, 255, 255);
    public static LedColor Green => new(0, 255, 0);
    public static LedColor Blue => new(0, 0, 255);
    public static LedColor Yellow => new(255, 255, 0);
    public static LedColor Purple => new(128, 0, 255);
    public static LedColor Red => new(255, 0, 0);

    public override string ToString() => $"#{R:x2}{G:x2}{B:x2}";
}
