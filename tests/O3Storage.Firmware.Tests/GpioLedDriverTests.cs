using System.Device.Gpio;
using Microsoft.Extensions.Time.Testing;
using O3Storage.Firmware.Leds;

namespace O3Storage.Firmware.Tests;

public sealed class GpioLedDriverTests
{
    [Fact]
    public void Open_MakesThePinAnOutput_WithTheLedOff()
    {
        var chip = new SimulatedGpioDriver();
        using var led = new GpioLedDriver(chip, pin: 17, activeLow: false);

        Assert.Equal("gpio:17", led.Name);
        Assert.Contains("open 17", chip.Log);
        Assert.Contains("mode 17 Output", chip.Log);
        Assert.Equal(PinValue.Low, chip.ValueOf(17));
        Assert.False(led.CanRun(LedPatterns.Leader));
    }

    [Fact]
    public void AnActiveLowLed_IsOnWhenThePinIsLow()
    {
        var chip = new SimulatedGpioDriver();
        using var led = new GpioLedDriver(chip, pin: 4, activeLow: true);
        Assert.Equal(PinValue.High, chip.ValueOf(4));

        led.SetPhase(true, LedColor.Green);
        Assert.Equal(PinValue.Low, chip.ValueOf(4));

        led.SetPhase(false, LedColor.Green);
        Assert.Equal(PinValue.High, chip.ValueOf(4));
    }

    [Fact]
    public void TheAnimator_TogglesThePinAtTheLeaderPatternsBoundaries()
    {
        var time = new FakeTimeProvider();
        var chip = new SimulatedGpioDriver();
        using var animator = new LedAnimator(new GpioLedDriver(chip, pin: 17, activeLow: false), time);
        chip.Log.Clear();

        animator.Show(LedPatterns.Leader);
        var levels = new List<string> { $"0 {chip.ValueOf(17)}" };
        for (int ms = 1; ms <= 2000; ms++)
        {
            PinValue before = chip.ValueOf(17);
            time.Advance(TimeSpan.FromMilliseconds(1));
            if (chip.ValueOf(17) != before)
            {
                levels.Add($"{ms} {chip.ValueOf(17)}");
            }
        }

        Assert.Equal(["0 High", "900 Low", "1000 High", "1900 Low", "2000 High"], levels);
        Assert.Equal(5, chip.Log.Count(l => l.StartsWith("write 17", StringComparison.Ordinal)));
    }

    [Fact]
    public void Dispose_SwitchesTheLedOff_AndReleasesPinAndChip()
    {
        var chip = new SimulatedGpioDriver();
        var led = new GpioLedDriver(chip, pin: 17, activeLow: false);
        led.SetPhase(true, LedColor.Blue);

        led.Dispose();

        Assert.Equal(PinValue.Low, chip.ValueOf(17));
        int off = chip.Log.LastIndexOf("write 17 Low");
        int close = chip.Log.IndexOf("close 17");
        Assert.True(off >= 0 && close > off, string.Join(" | ", chip.Log));
        Assert.True(chip.Disposed);
    }

    [Fact]
    public void APinTheChipDoesNotHave_IsATypedError()
    {
        var chip = new SimulatedGpioDriver();

        var error = Assert.Throws<LedDriverException>(() => new GpioLedDriver(chip, pin: 99, activeLow: false));
        Assert.StartsWith("cannot open GPIO 99 as an output:", error.Message, StringComparison.Ordinal);
        Assert.True(chip.Disposed);
    }
}
