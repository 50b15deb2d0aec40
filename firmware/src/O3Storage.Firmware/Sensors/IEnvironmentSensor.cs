namespace O3Storage.Firmware.Sensors;

/// <summary>An optional environment sensor (an I2C BME280 on the board); only constructed when a profile names one.</summary>
public interface IEnvironmentSensor : IDisposable
{
    /// <summary>What and where, e.g. "bme280 on i2c-1 0x76".</summary>
    string Name { get; }

    /// <summary>False with a reason when the sensor does not answer; never throws for bus errors.</summary>
    bool TryReadCelsius(out double celsius, out string reason);
}
