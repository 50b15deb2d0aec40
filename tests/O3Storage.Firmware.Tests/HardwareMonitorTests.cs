using Microsoft.Extensions.Time.Testing;
using O3Storage.Firmware.Boards;
using O3Storage.Firmware.Status;

namespace O3Storage.Firmware.Tests;

public sealed class HardwareMonitorTests : IDisposable
{
    private readonly TempTree _tree = new();
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => _tree.Dispose();

    private string Led(string name, string attribute) => _tree.Read($"sys/class/leds/{name}/{attribute}").Trim();

    [Fact]
    public void APi4_ShowsItsStatusOnTheActLed_ReportsCpuTemperature_AndGivesTheLedBackOnDispose()
    {
        _tree.AddLed("ACT", trigger: "mmc0");
        _tree.AddThermalZone(0, "cpu-thermal", "52000");
        var monitor = HardwareMonitor.Open(BoardProfiles.Find("raspberry-pi-4"), _tree.Root, _time);

        Assert.Equal(new HardwareSnapshot("raspberry-pi-4", "sysfs:ACT", "booting", 52.0, "thermal_zone0 (cpu-thermal)", 1.0), monitor.Snapshot());
        Assert.Equal("default-on", Led("ACT", "trigger"));

        monitor.SetStatus(NodeStatus.Leader);
        Assert.Equal(NodeStatus.Leader, monitor.Status);
        Assert.Equal("leader", monitor.Snapshot().LedPattern);
        Assert.Equal("timer", Led("ACT", "trigger"));
        Assert.Equal("900", Led("ACT", "delay_on"));
        Assert.Equal("100", Led("ACT", "delay_off"));
        Assert.Empty(monitor.Notes);

        monitor.Dispose();
        Assert.Equal("mmc0", Led("ACT", "trigger"));
        monitor.SetStatus(NodeStatus.Fault);
        Assert.Equal("mmc0", Led("ACT", "trigger"));
    }

    [Fact]
    public void AnOlderKernelsLed0_IsUsedWhenThereIsNoAct()
    {
        _tree.AddLed("led0", trigger: "mmc0");
        using var monitor = HardwareMonitor.Open(BoardProfiles.Find("raspberry-pi-5"), _tree.Root, _time);

        Assert.Equal("sysfs:led0", monitor.Snapshot().LedDriver);
        Assert.Equal([$"sysfs ACT: no LED at {_tree.PathOf("sys/class/leds/ACT")}"], monitor.Notes);
    }

    [Fact]
    public void WithoutAProfile_TheConsoleLedStillReportsThePattern_AndAnyThermalZoneIsRead()
    {
        _tree.AddThermalZone(0, "x86_pkg_temp", "45000");
        using var monitor = HardwareMonitor.Open(null, _tree.Root, _time);

        monitor.SetStatus(NodeStatus.Discovering);

        Assert.Equal(new HardwareSnapshot("no board", "console", "discovering", 45.0, "thermal_zone0 (x86_pkg_temp)", 1.0), monitor.Snapshot());
        Assert.Equal(["no board profile: LED patterns are only reported"], monitor.Notes);
    }

    [Fact]
    public void QemuVirt_HasNoLedAndNoSensor_AndRunsAtFullSpeed()
    {
        using var monitor = HardwareMonitor.Open(BoardProfiles.Find("qemu-virt"), _tree.Root, _time);
        HardwareSnapshot snapshot = monitor.Snapshot();

        Assert.Equal("console", snapshot.LedDriver);
        Assert.Null(snapshot.TemperatureCelsius);
        Assert.Equal($"no sensor: no {_tree.PathOf("sys/class/thermal")}", snapshot.TemperatureSource);
        Assert.Equal(1.0, snapshot.BackgroundWorkFactor);
    }

    [Fact]
    public void TheTemperature_IsReadAtMostOncePerSecond_AndAHotBoardSlowsBackgroundWork()
    {
        _tree.AddThermalZone(0, "cpu-thermal", "60000");
        using var monitor = HardwareMonitor.Open(BoardProfiles.Find("raspberry-pi-4"), _tree.Root, _time);
        Assert.Equal(60.0, monitor.Snapshot().TemperatureCelsius);

        _tree.AddThermalZone(0, "cpu-thermal", "78000");
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(60.0, monitor.Snapshot().TemperatureCelsius);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        HardwareSnapshot hot = monitor.Snapshot();
        Assert.Equal(78.0, hot.TemperatureCelsius);
        Assert.Equal(0.28, hot.BackgroundWorkFactor, precision: 9);
    }

    [Fact]
    public void DeviceLedsAndSensors_AreNotOpenedUnderATestRoot_AndSaySo()
    {
        BoardProfile board = BoardProfiles.Parse(
            """{"name":"b","model":"m","leds":[{"driver":"gpio","pin":17},{"driver":"ws2812b"}],"sensors":{"i2c":[{"driver":"bme280","address":"0x76"}]}}""",
            "b.json");
        using var monitor = HardwareMonitor.Open(board, _tree.Root, _time);

        Assert.Equal("console", monitor.Snapshot().LedDriver);
        Assert.Equal(
            [
                "gpio LED: not opened (devices are opened only under the root /)",
                "ws2812b LED: not opened (devices are opened only under the root /)",
                "no LED of b opened: LED patterns are only reported",
                "bme280 on i2c-1 0x76: not opened (devices are opened only under the root /)",
            ],
            monitor.Notes);
    }

    [Fact]
    public void AnLedThatFailsLater_IsReportedAsLedError_NotThrown()
    {
        _tree.AddLed("ACT", delayFiles: false);
        using var monitor = HardwareMonitor.Open(BoardProfiles.Find("raspberry-pi-4"), _tree.Root, _time);

        monitor.SetStatus(NodeStatus.FollowerHealthy);

        Assert.StartsWith("cannot write '1900' to ", monitor.LedError, StringComparison.Ordinal);
        Assert.Equal("follower", monitor.Snapshot().LedPattern);
    }
}
