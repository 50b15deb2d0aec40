namespace O3Storage.Firmware.Leds;

/// <summary>An LED could not be opened or driven (missing, permission denied, device gone).</summary>
public sealed class LedDriverException : Exception
{
    public LedDriverException(string message)
        : base(message)
    {
    }

    public LedDriverException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
