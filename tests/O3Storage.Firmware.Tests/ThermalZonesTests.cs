using O3Storage.Firmware.Sensors;

namespace O3Storage.Firmware.Tests;

public sealed class ThermalZonesTests : IDisposable
{
    private readonly TempTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private ThermalZones Zones(params string[] types) => new(_tree.PathOf("sys/class/thermal"), types);

    [Fact]
    public void APiZone_ReadsMillidegreesAsCelsius_AndNamesItsSource()
    {
        _tree.AddThermalZone(0, "cpu-thermal", "48312");

        Assert.True(Zones("cpu-thermal").TryReadCelsius(out double celsius, out string source));
        Assert.Equal(48.312, celsius, precision: 6);
        Assert.Equal("thermal_zone0 (cpu-thermal)", source);
    }

    [Fact]
    public void TheTypeFilter_PicksTheNamedZone_OtherwiseTheHottestZoneCounts()
    {
        _tree.AddThermalZone(0, "acpitz", "30000");
        _tree.AddThermalZone(1, "cpu-thermal", "55000");
        _tree.AddThermalZone(2, "iwlwifi_1", "61000");

        Assert.True(Zones("cpu-thermal").TryReadCelsius(out double filtered, out string filteredSource));
        Assert.Equal(55.0, filtered);
        Assert.Equal("thermal_zone1 (cpu-thermal)", filteredSource);

        Assert.True(Zones().TryReadCelsius(out double any, out string anySource));
        Assert.Equal(61.0, any);
        Assert.Equal("thermal_zone2 (iwlwifi_1)", anySource);
    }

    [Fact]
    public void UnreadableGarbageAndImplausibleZones_AreSkipped()
    {
        _tree.AddThermalZone(0, "cpu-thermal", "x");
        File.Delete(_tree.PathOf("sys/class/thermal/thermal_zone0/temp"));
        Directory.CreateDirectory(_tree.PathOf("sys/class/thermal/thermal_zone0/temp"));
        _tree.AddThermalZone(1, "cpu-thermal", "garbage");
        _tree.AddThermalZone(2, "cpu-thermal", "-273150");
        _tree.AddThermalZone(3, "cpu-thermal", "41000");

        Assert.True(Zones("cpu-thermal").TryReadCelsius(out double celsius, out string source));
        Assert.Equal(41.0, celsius);
        Assert.Equal("thermal_zone3 (cpu-thermal)", source);
    }

    [Fact]
    public void WhenEveryZoneIsBroken_TheReasonListsThem()
    {
        _tree.AddThermalZone(0, "cpu-thermal", "x");
        File.Delete(_tree.PathOf("sys/class/thermal/thermal_zone0/temp"));
        _tree.AddThermalZone(1, "cpu-thermal", "garbage");

        Assert.False(Zones().TryReadCelsius(out _, out string source));
        Assert.Equal("no sensor: thermal_zone0 (cpu-thermal): temp unreadable; thermal_zone1 (cpu-thermal): temp holds 'garbage'", source);
    }

    [Fact]
    public void NoZone_OrNoZoneOfTheWantedType_IsNoSensor()
    {
        string thermal = _tree.PathOf("sys/class/thermal");
        Assert.False(Zones().TryReadCelsius(out _, out string none));
        Assert.Equal($"no sensor: no {thermal}", none);

        _tree.AddThermalZone(0, "acpitz", "30000");
        Assert.False(Zones("cpu-thermal").TryReadCelsius(out _, out string wrongType));
        Assert.Equal($"no sensor: no thermal zone of type cpu-thermal under {thermal}", wrongType);
    }

    [Fact]
    public void ZonesAreTakenInNumericOrder_ForEqualReadings()
    {
        _tree.AddThermalZone(10, "b", "50000");
        _tree.AddThermalZone(2, "a", "50000");

        Assert.True(Zones().TryReadCelsius(out _, out string source));
        Assert.Equal("thermal_zone2 (a)", source);
    }
}
