namespace O3Storage.Firmware.Boards;

/// <summary>An environment sensor on I2C bus <paramref name="Bus"/> at 7-bit <paramref name="Address"/>; <paramref name="Driver"/> is "bme280".</summary>
public sealed record I2cSensorSpec(string Driver, int Bus, int Address)
{
    public override string ToString() => $"{Driver} on i2c-{Bus} 0x{Address:x2}";
}
