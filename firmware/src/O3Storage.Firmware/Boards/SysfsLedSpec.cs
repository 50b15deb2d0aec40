namespace O3Storage.Firmware.Boards;

/// <summary>A kernel LED under /sys/class/leds, tried by each name in order (e.g. "ACT", then the older "led0").</summary>
public sealed record SysfsLedSpec(IReadOnlyList<string> Names) : LedSpec
{
    public override string Driver => "sysfs";
}
