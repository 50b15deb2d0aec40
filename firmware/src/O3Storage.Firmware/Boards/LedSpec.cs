namespace O3Storage.Firmware.Boards;

/// <summary>One way a board may have a status LED; see the derived records.</summary>
public abstract record LedSpec
{
    private protected LedSpec()
    {
    }

    /// <summary>The JSON "driver" value: "sysfs", "gpio" or "ws2812b".</summary>
    public abstract string Driver { get; }
}
