using Microsoft.Extensions.Time.Testing;
using O3Storage.Firmware.Leds;

namespace O3Storage.Firmware.Tests;

public sealed class AddressableLedDriverTests
{
    [Fact]
    public void TheOnPhase_SendsTheStatusColorToEveryPixel_AndTheOffPhase_SendsBlack()
    {
        var spi = new SimulatedSpiDevice();
        using var led = new AddressableLedDriver(spi, pixels: 3);

        led.SetPhase(true, LedColor.Purple);
        led.SetPhase(false, LedColor.Purple);

        Assert.Equal("ws2812b:spi0.0", led.Name);
        Assert.Equal(2, spi.Frames.Count);
        Assert.Equal([LedColor.Purple, LedColor.Purple, LedColor.Purple], SimulatedSpiDevice.DecodeWs2812b(spi.Frames[0], 3));
        Assert.Equal([LedColor.Black, LedColor.Black, LedColor.Black], SimulatedSpiDevice.DecodeWs2812b(spi.Frames[1], 3));
        Assert.NotEqual(spi.Frames[0], spi.Frames[1]);
    }

    [Fact]
    public void TheAnimator_SendsAFramePerPhase_InTheFaultPatternsRed()
    {
        var time = new FakeTimeProvider();
        var spi = new SimulatedSpiDevice();
        using var animator = new LedAnimator(new AddressableLedDriver(spi, pixels: 1), time);

        animator.Show(LedPatterns.Fault);
        for (int ms = 0; ms < 150; ms++)
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        // 0: on, 50: off, 100: on, 150: off.
        List<LedColor> shown = [.. spi.Frames.Select(f => SimulatedSpiDevice.DecodeWs2812b(f, 1)[0])];
        Assert.Equal([LedColor.Red, LedColor.Black, LedColor.Red, LedColor.Black], shown);
    }

    [Fact]
    public void Dispose_BlanksTheStrip_AndReleasesTheBus()
    {
        var spi = new SimulatedSpiDevice();
        var led = new AddressableLedDriver(spi, pixels: 2);
        led.SetPhase(true, LedColor.Green);

        led.Dispose();

        Assert.Equal([LedColor.Black, LedColor.Black], SimulatedSpiDevice.DecodeWs2812b(spi.Frames[^1], 2));
        Assert.True(spi.Disposed);
    }
}
