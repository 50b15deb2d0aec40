using O3Storage.Firmware.Boards;

namespace O3Storage.Firmware.Tests;

public sealed class BoardProfilesTests : IDisposable
{
    private readonly TempTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private const string ValidCustomBoard = """
        {
          "name": "rock-5b",
          "model": "Radxa ROCK 5B",
          "compatible": ["radxa,rock-5b"],
          "leds": [
            { "driver": "sysfs", "names": ["user-led2"] },
            { "driver": "gpio", "pin": 17, "active_low": true },
            { "driver": "ws2812b", "spi_bus": 1, "chip_select": 0, "pixels": 8 }
          ],
          "sensors": {
            "thermal_zones": ["soc-thermal", "bigcore0-thermal"],
            "i2c": [ { "driver": "bme280", "bus": 1, "address": "0x77" } ]
          },
          "throttle": { "soft_celsius": 75, "hard_celsius": 90 }
        }
        """;

    private static string ErrorOf(string json)
    {
        var error = Assert.Throws<BoardProfileException>(() => BoardProfiles.Parse(json, "board.json"));
        return error.Message;
    }

    [Fact]
    public void TheBuiltInProfiles_AreThePis_AndQemu()
    {
        Assert.Equal(["qemu-virt", "raspberry-pi-4", "raspberry-pi-5"], BoardProfiles.BuiltIn.Select(p => p.Name));
    }

    [Fact]
    public void ThePi4Profile_UsesTheActLed_TheCpuThermalZone_AndThrottlesBelowTheFirmware()
    {
        BoardProfile pi4 = BoardProfiles.Find("raspberry-pi-4")!;

        Assert.Equal(["raspberrypi,4-model-b", "raspberrypi,400", "raspberrypi,4-compute-module"], pi4.Compatible);
        var led = Assert.IsType<SysfsLedSpec>(Assert.Single(pi4.Leds));
        Assert.Equal(["ACT", "led0"], led.Names);
        Assert.Equal(["cpu-thermal"], pi4.ThermalZones);
        Assert.Empty(pi4.I2cSensors);
        Assert.Equal(new ThrottleLimits(70, 80), pi4.Throttle);
    }

    [Fact]
    public void TheQemuProfile_HasNoLedAndExpectsNoThermalZone()
    {
        BoardProfile qemu = BoardProfiles.Find("qemu-virt")!;

        Assert.Empty(qemu.Leds);
        Assert.Empty(qemu.ThermalZones);
        Assert.Equal(["linux,dummy-virt"], qemu.Compatible);
    }

    [Theory]
    [InlineData("raspberrypi,4-model-b\0brcm,bcm2711\0", "raspberry-pi-4")]
    [InlineData("raspberrypi,400\0brcm,bcm2711\0", "raspberry-pi-4")]
    [InlineData("raspberrypi,4-compute-module\0brcm,bcm2711\0", "raspberry-pi-4")]
    [InlineData("raspberrypi,5-model-b\0brcm,bcm2712\0", "raspberry-pi-5")]
    [InlineData("linux,dummy-virt\0", "qemu-virt")]
    public void Detect_ReadsTheDeviceTreeCompatibleStrings(string compatible, string profile)
    {
        _tree.Write("proc/device-tree/compatible", compatible);

        Assert.Equal(profile, BoardProfiles.Detect(_tree.Root)?.Name);
    }

    [Fact]
    public void Detect_FallsBackToTheSysfsDeviceTree()
    {
        _tree.Write("sys/firmware/devicetree/base/compatible", "raspberrypi,5-model-b\0brcm,bcm2712\0");

        Assert.Equal("raspberry-pi-5", BoardProfiles.Detect(_tree.Root)?.Name);
    }

    [Fact]
    public void AnUnknownBoard_OrNoDeviceTree_IsNoProfile()
    {
        Assert.Null(BoardProfiles.Detect(_tree.Root));
        Assert.Empty(BoardProfiles.ReadCompatible(_tree.Root));

        _tree.Write("proc/device-tree/compatible", "raspberrypi,3-model-b\0brcm,bcm2837\0");
        Assert.Null(BoardProfiles.Detect(_tree.Root));
        Assert.Equal(["raspberrypi,3-model-b", "brcm,bcm2837"], BoardProfiles.ReadCompatible(_tree.Root));
    }

    [Fact]
    public void Match_PrefersTheMostSpecificCompatibleString()
    {
        BoardProfile generic = BoardProfiles.Parse("""{"name":"any-bcm2711","model":"m","compatible":["brcm,bcm2711"]}""", "generic");
        BoardProfile pi4 = BoardProfiles.Find("raspberry-pi-4")!;

        Assert.Same(pi4, BoardProfiles.Match(["raspberrypi,4-model-b", "brcm,bcm2711"], [generic, pi4]));
        Assert.Same(generic, BoardProfiles.Match(["raspberrypi,3-model-b", "brcm,bcm2711"], [generic, pi4]));
    }

    [Fact]
    public void AUsersProfileFile_LoadsEveryDriverKind()
    {
        _tree.Write("rock-5b.json", ValidCustomBoard);

        Assert.True(BoardProfiles.TryLoad(_tree.PathOf("rock-5b.json"), out BoardProfile? board, out string error), error);
        Assert.Equal("rock-5b", board.Name);
        Assert.Equal(new GpioLedSpec(17, ActiveLow: true, Chip: 0), board.Leds[1]);
        Assert.Equal(new Ws2812bLedSpec(1, 0, 8), board.Leds[2]);
        Assert.Equal(new I2cSensorSpec("bme280", 1, 0x77), Assert.Single(board.I2cSensors));
        Assert.Equal("bme280 on i2c-1 0x77", board.I2cSensors[0].ToString());
        Assert.Equal(new ThrottleLimits(75, 90), board.Throttle);
    }

    [Fact]
    public void OmittedSections_TakeTheirDefaults()
    {
        BoardProfile board = BoardProfiles.Parse("""{"name":"bare","model":"Bare board"}""", "board.json");

        Assert.Empty(board.Leds);
        Assert.Empty(board.ThermalZones);
        Assert.Empty(board.I2cSensors);
        Assert.Equal(ThrottleLimits.Default, board.Throttle);
    }

    [Fact]
    public void AnUnknownLedDriver_IsNamedWithItsPosition() =>
        Assert.Equal(
            "board.json: leds[1].driver: unknown driver 'pwm' (expected sysfs, gpio or ws2812b)",
            ErrorOf("""{"name":"b","model":"m","leds":[{"driver":"sysfs","names":["ACT"]},{"driver":"pwm","pin":3}]}"""));

    [Theory]
    [InlineData("\"0x99\"")]
    [InlineData("\"76\"")]
    [InlineData("\"0xzz\"")]
    [InlineData("3")]
    public void ABadI2cAddress_IsNamed(string address) =>
        Assert.Equal(
            $"board.json: sensors.i2c[0].address: bad address {address} (expected a 7-bit I2C address such as \"0x76\")",
            ErrorOf("""{"name":"b","model":"m","sensors":{"i2c":[{"driver":"bme280","bus":1,"address":""" + address + "}]}}"));

    [Fact]
    public void AMissingName_IsNamed() =>
        Assert.Equal("board.json: name: missing", ErrorOf("""{"model":"m"}"""));

    [Fact]
    public void UnknownProperties_AreErrorsNamingTheProperty_AtAnyDepth() =>
        Assert.Equal(
            "board.json: colour: unknown property; leds[0].activelow: unknown property; throttle.soft: unknown property",
            ErrorOf("""{"name":"b","model":"m","colour":"red","leds":[{"driver":"gpio","pin":4,"activelow":true}],"throttle":{"soft":60}}"""));

    [Fact]
    public void AFieldOfAnotherDriver_IsAnError() =>
        Assert.Equal(
            "board.json: leds[0].pin: does not apply to driver 'sysfs'",
            ErrorOf("""{"name":"b","model":"m","leds":[{"driver":"sysfs","names":["ACT"],"pin":4}]}"""));

    [Fact]
    public void EveryProblem_IsReportedAtOnce()
    {
        string error = ErrorOf("""{"name":"Bad Name","leds":[{"driver":"gpio"},{"driver":"sysfs","names":[]}],"throttle":{"soft_celsius":90,"hard_celsius":80}}""");

        Assert.Contains("name: 'Bad Name' is not a profile name", error, StringComparison.Ordinal);
        Assert.Contains("model: missing", error, StringComparison.Ordinal);
        Assert.Contains("leds[0].pin: missing", error, StringComparison.Ordinal);
        Assert.Contains("leds[1].names: missing or empty", error, StringComparison.Ordinal);
        Assert.Contains("throttle: soft_celsius (90) must be below hard_celsius (80)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TextThatIsNotJson_OrAMissingFile_IsAProfileError()
    {
        Assert.StartsWith("board.json: not a valid board profile:", ErrorOf("{\"name\": "), StringComparison.Ordinal);
        Assert.Contains("$.leds[0].pin", ErrorOf("""{"name":"b","model":"m","leds":[{"driver":"gpio","pin":"17"}]}"""), StringComparison.Ordinal);

        string missing = _tree.PathOf("nope.json");
        Assert.False(BoardProfiles.TryLoad(missing, out _, out string error));
        Assert.StartsWith($"{missing}: cannot read the board profile:", error, StringComparison.Ordinal);
    }
}
