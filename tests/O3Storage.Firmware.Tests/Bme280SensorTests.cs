using O3Storage.Firmware.Sensors;

namespace O3Storage.Firmware.Tests;

public sealed class Bme280SensorTests
{
    // The datasheet's worked example (BMP280 datasheet, section 3.12; the BME280 shares the formula).
    private const ushort DigT1 = 27504;
    private const short DigT2 = 26435;
    private const short DigT3 = -1000;
    private const int AdcT = 519888;

    private static SimulatedI2cDevice ABme280(int adc = AdcT)
    {
        var device = new SimulatedI2cDevice(bus: 1, address: 0x76);
        device.Registers[0xD0] = 0x60;
        BitConverter.TryWriteBytes(device.Registers.AsSpan(0x88), DigT1);
        BitConverter.TryWriteBytes(device.Registers.AsSpan(0x8A), DigT2);
        BitConverter.TryWriteBytes(device.Registers.AsSpan(0x8C), DigT3);
        device.Registers[0xFA] = (byte)(adc >> 12);
        device.Registers[0xFB] = (byte)(adc >> 4);
        device.Registers[0xFC] = (byte)((adc & 0xF) << 4);
        return device;
    }

    [Fact]
    public void Compensation_GivesTheDatasheetsExampleTemperature() =>
        Assert.Equal(25.08, Bme280Sensor.CompensateCelsius(AdcT, DigT1, DigT2, DigT3), precision: 9);

    [Fact]
    public void ASensorThatAnswers_IsPutInNormalMode_AndReadsCelsius()
    {
        SimulatedI2cDevice device = ABme280();

        Assert.True(Bme280Sensor.TryOpen(device, "bme280 on i2c-1 0x76", out Bme280Sensor? sensor, out string reason), reason);
        using (sensor)
        {
            Assert.Equal(0b001_000_11, device.Registers[0xF4]);
            Assert.Equal(0b101_000_00, device.Registers[0xF5]);
            Assert.True(sensor.TryReadCelsius(out double celsius, out _));
            Assert.Equal(25.08, celsius, precision: 9);
            Assert.Equal("bme280 on i2c-1 0x76", sensor.Name);
        }

        Assert.Equal(0, device.Registers[0xF4]);
        Assert.True(device.Disposed);
    }

    [Fact]
    public void BeforeTheFirstMeasurement_ThereIsNoReading()
    {
        Assert.True(Bme280Sensor.TryOpen(ABme280(adc: 0x80000), "bme280", out Bme280Sensor? sensor, out _));
        using (sensor)
        {
            Assert.False(sensor.TryReadCelsius(out _, out string reason));
            Assert.Equal("bme280: no measurement yet", reason);
        }
    }

    [Fact]
    public void AnotherChipAtTheAddress_IsRefused()
    {
        SimulatedI2cDevice device = ABme280();
        device.Registers[0xD0] = 0x58;

        Assert.False(Bme280Sensor.TryOpen(device, "bme280 on i2c-1 0x76", out _, out string reason));
        Assert.Equal("bme280 on i2c-1 0x76: chip id 0x58 is not a BME280 (0x60)", reason);
        Assert.True(device.Disposed);
    }

    [Fact]
    public void ASensorThatDoesNotAnswer_IsAReason_AndItsDeviceIsReleased()
    {
        var device = new SimulatedI2cDevice(bus: 1, address: 0x76) { Answers = false };

        Assert.False(Bme280Sensor.TryOpen(device, "bme280 on i2c-1 0x76", out Bme280Sensor? sensor, out string reason));

        Assert.Null(sensor);
        Assert.StartsWith("bme280 on i2c-1 0x76: not answering: ", reason, StringComparison.Ordinal);
        Assert.True(device.Disposed);
    }

    [Fact]
    public void ASensorUnpluggedLater_IsAReasonOnRead()
    {
        SimulatedI2cDevice device = ABme280();
        Assert.True(Bme280Sensor.TryOpen(device, "bme280", out Bme280Sensor? sensor, out _));
        using (sensor)
        {
            device.Answers = false;
            Assert.False(sensor.TryReadCelsius(out _, out string reason));
            Assert.StartsWith("bme280: read failed: ", reason, StringComparison.Ordinal);
        }
    }
}
