// Owns: the temperature of one Bosch BME280 on I2C, through System.Device.I2c.
// Assumes: the sensor runs in normal mode (it measures once a second by itself), so a read only
// fetches the latest result and never sleeps on the caller's thread. Only temperature is measured.
// Registers and the compensation formula are the datasheet's (BST-BME280-DS002, sections 4.2.3, 5.4).
// Why not Iot.Device.Bmxx80.Bme280: it reports through UnitsNet, whose reflection breaks the node's
// native-AOT publish (IL2104 as an error) and adds about 6 MB to the binary.
// Faults: a sensor that is absent, answers with another chip id, or fails on the bus is reported as a
// reason by TryOpen / TryReadCelsius, never thrown at the caller.
using System.Buffers.Binary;
using System.Device.I2c;
using System.Diagnostics.CodeAnalysis;
using O3Storage.Firmware.Boards;

namespace O3Storage.Firmware.Sensors;

public sealed class Bme280Sensor : IEnvironmentSensor
{
    internal const byte ChipIdRegister = 0xD0;
    internal const byte ChipId = 0x60;
    internal const byte CalibrationRegister = 0x88;
    internal const byte HumidityControlRegister = 0xF2;
    internal const byte MeasurementControlRegister = 0xF4;
    internal const byte ConfigRegister = 0xF5;
    internal const byte TemperatureRegister = 0xFA;

    /// <summary>Temperature oversampling x1, pressure skipped, normal mode.</summary>
    internal const byte MeasureTemperatureNormalMode = 0b001_000_11;

    /// <summary>Standby 1000 ms between measurements, no IIR filter.</summary>
    internal const byte StandbyOneSecond = 0b101_000_00;

    /// <summary>What the temperature registers hold before the first measurement (or when it is skipped).</summary>
    private const int NoMeasurement = 0x80000;

    private readonly I2cDevice _device;
    private readonly ushort _digT1;
    private readonly short _digT2;
    private readonly short _digT3;
    private bool _disposed;

    private Bme280Sensor(I2cDevice device, string name, ushort digT1, short digT2, short digT3)
    {
        _device = device;
        Name = name;
        _digT1 = digT1;
        _digT2 = digT2;
        _digT3 = digT3;
    }

    public string Name { get; }

    /// <summary>Opens the sensor on /dev/i2c-BUS at the profile's address.</summary>
    public static bool TryOpen(I2cSensorSpec spec, [NotNullWhen(true)] out Bme280Sensor? sensor, out string reason)
    {
        ArgumentNullException.ThrowIfNull(spec);
        I2cDevice device;
        try
        {
            device = I2cDevice.Create(new I2cConnectionSettings(spec.Bus, spec.Address));
        }
        catch (Exception e) when (HardwareErrors.IsOperatingError(e))
        {
            sensor = null;
            reason = $"{spec}: cannot open /dev/i2c-{spec.Bus}: {e.Message}";
            return false;
        }

        return TryOpen(device, spec.ToString(), out sensor, out reason);
    }

    /// <summary>Checks the chip id, reads the calibration and starts measuring; owns <paramref name="device"/> from now on (disposed on failure too).</summary>
    public static bool TryOpen(I2cDevice device, string name, [NotNullWhen(true)] out Bme280Sensor? sensor, out string reason)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentException.ThrowIfNullOrEmpty(name);
        try
        {
            Span<byte> id = stackalloc byte[1];
            device.WriteRead([ChipIdRegister], id);
            if (id[0] != ChipId)
            {
                device.Dispose();
                sensor = null;
                reason = $"{name}: chip id 0x{id[0]:x2} is not a BME280 (0x{ChipId:x2})";
                return false;
            }

            Span<byte> calibration = stackalloc byte[6];
            device.WriteRead([CalibrationRegister], calibration);

            // Sleep first: the config register may ignore writes in normal mode.
            device.Write([MeasurementControlRegister, 0]);
            device.Write([ConfigRegister, StandbyOneSecond]);
            device.Write([HumidityControlRegister, 0]);
            device.Write([MeasurementControlRegister, MeasureTemperatureNormalMode]);
            sensor = new Bme280Sensor(
                device,
                name,
                BinaryPrimitives.ReadUInt16LittleEndian(calibration),
                BinaryPrimitives.ReadInt16LittleEndian(calibration[2..]),
                BinaryPrimitives.ReadInt16LittleEndian(calibration[4..]));
            reason = "";
            return true;
        }
        catch (Exception e) when (HardwareErrors.IsOperatingError(e))
        {
            device.Dispose();
            sensor = null;
            reason = $"{name}: not answering: {e.Message}";
            return false;
        }
    }

    public bool TryReadCelsius(out double celsius, out string reason)
    {
        celsius = 0;
        Span<byte> raw = stackalloc byte[3];
        try
        {
            _device.WriteRead([TemperatureRegister], raw);
        }
        catch (Exception e) when (HardwareErrors.IsOperatingError(e))
        {
            reason = $"{Name}: read failed: {e.Message}";
            return false;
        }

        int adc = (raw[0] << 12) | (raw[1] << 4) | (raw[2] >> 4);
        if (adc == NoMeasurement)
        {
            reason = $"{Name}: no measurement yet";
            return false;
        }

        celsius = CompensateCelsius(adc, _digT1, _digT2, _digT3);
        reason = "";
        return true;
    }

    /// <summary>The datasheet's 32-bit integer compensation, in steps of 0.01 °C.</summary>
    internal static double CompensateCelsius(int adc, ushort digT1, short digT2, short digT3)
    {
        int var1 = (((adc >> 3) - (digT1 << 1)) * digT2) >> 11;
        int delta = (adc >> 4) - digT1;
        int var2 = (((delta * delta) >> 12) * digT3) >> 14;
        int fine = var1 + var2;
        return (((fine * 5) + 128) >> 8) / 100.0;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _device.Write([MeasurementControlRegister, 0]);
        }
        catch (Exception e) when (HardwareErrors.IsOperatingError(e))
        {
            // The bus is gone; the sensor keeps measuring, which costs it microwatts.
        }

        _device.Dispose();
    }
}
