using Microsoft.Extensions.Time.Testing;
using O3Storage.Firmware.Leds;

namespace O3Storage.Firmware.Tests;

public sealed class SysfsLedDriverTests : IDisposable
{
    private readonly TempTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private string Attribute(string name) => _tree.Read($"sys/class/leds/ACT/{name}").Trim();

    [Theory]
    [InlineData("none [mmc0] timer oneshot", "mmc0")]
    [InlineData("[none] mmc0 timer", "none")]
    [InlineData("none mmc0 timer [default-on]\n", "default-on")]
    [InlineData("none mmc0 timer", "none")]
    public void TheActiveTrigger_IsTheOneInBrackets(string content, string active) =>
        Assert.Equal(active, SysfsLedDriver.ActiveTrigger(content));

    [Fact]
    public void Open_RemembersTheBoardsTrigger_AndReadsMaxBrightness()
    {
        using var led = new SysfsLedDriver(_tree.AddLed("ACT", trigger: "mmc0", maxBrightness: 1));

        Assert.Equal("sysfs:ACT", led.Name);
        Assert.Equal("mmc0", led.OriginalTrigger);
        Assert.Equal(1, led.MaxBrightness);
    }

    [Fact]
    public void ATwoPhasePattern_IsHandedToTheKernelTimerTrigger()
    {
        using var led = new SysfsLedDriver(_tree.AddLed("ACT"));

        Assert.True(led.CanRun(LedPatterns.Leader));
        led.Run(LedPatterns.Leader);

        Assert.Equal("timer", Attribute("trigger"));
        Assert.Equal("900", Attribute("delay_on"));
        Assert.Equal("100", Attribute("delay_off"));

        led.Run(LedPatterns.Maintenance);
        Assert.Equal("100", Attribute("delay_on"));
        Assert.Equal("1900", Attribute("delay_off"));
    }

    [Fact]
    public void SteadyOn_IsDefaultOn_AndSteadyOff_IsNoTriggerAndZeroBrightness()
    {
        using var led = new SysfsLedDriver(_tree.AddLed("ACT"));

        led.Run(LedPatterns.Booting);
        Assert.Equal("default-on", Attribute("trigger"));

        led.Run(LedPatterns.Off);
        Assert.Equal("none", Attribute("trigger"));
        Assert.Equal("0", Attribute("brightness"));
    }

    [Fact]
    public void APhase_IsWrittenAsBrightness_WithTheTriggerCleared()
    {
        using var led = new SysfsLedDriver(_tree.AddLed("ACT", maxBrightness: 255));

        led.SetPhase(true, LedColor.Green);
        Assert.Equal("none", Attribute("trigger"));
        Assert.Equal("255", Attribute("brightness"));

        led.SetPhase(false, LedColor.Green);
        Assert.Equal("0", Attribute("brightness"));
    }

    [Fact]
    public void Dispose_PutsBackTheBoardsTrigger_SoTheActLedShowsSdActivityAgain()
    {
        var led = new SysfsLedDriver(_tree.AddLed("ACT", trigger: "mmc0"));
        led.Run(LedPatterns.Leader);

        led.Dispose();

        Assert.Equal("mmc0", Attribute("trigger"));
    }

    [Fact]
    public void AMissingLed_IsAReason_NotACrash()
    {
        string missing = _tree.PathOf("sys/class/leds/ACT");

        Assert.False(SysfsLedDriver.TryOpen(missing, out SysfsLedDriver? led, out string reason));
        Assert.Null(led);
        Assert.Equal($"no LED at {missing}", reason);
        Assert.Throws<LedDriverException>(() => new SysfsLedDriver(missing));
    }

    [Fact]
    public void AnUnreadableAttribute_IsAReasonNamingTheFile()
    {
        string dir = _tree.AddLed("ACT");
        File.Delete(Path.Combine(dir, "max_brightness"));
        Directory.CreateDirectory(Path.Combine(dir, "max_brightness"));

        Assert.False(SysfsLedDriver.TryOpen(dir, out _, out string reason));
        Assert.StartsWith($"cannot read {Path.Combine(dir, "max_brightness")}:", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TimerFilesThatNeverAppear_AreATypedError_NamingTheFile()
    {
        using var led = new SysfsLedDriver(_tree.AddLed("ACT", delayFiles: false));

        var error = Assert.Throws<LedDriverException>(() => led.Run(LedPatterns.Leader));
        Assert.Equal($"cannot write '900' to {_tree.PathOf("sys/class/leds/ACT/delay_on")}: no such file", error.Message);
        Assert.False(File.Exists(_tree.PathOf("sys/class/leds/ACT/delay_on")));
    }

    [Fact]
    public void AKernelWithoutTimerOrDefaultOnTriggers_GetsItsPhasesAsBrightness_FromTheAnimator()
    {
        var time = new FakeTimeProvider();
        var led = new SysfsLedDriver(_tree.AddLed("ACT", trigger: "mmc0", triggers: ["none", "mmc0"]));
        Assert.False(led.CanRun(LedPatterns.Leader));
        Assert.True(led.CanRun(LedPatterns.Booting));

        led.Run(LedPatterns.Booting);
        Assert.Equal("none", Attribute("trigger"));
        Assert.Equal("255", Attribute("brightness"));

        using var animator = new LedAnimator(led, time);
        animator.Show(LedPatterns.Leader);
        var brightness = new List<string>();
        for (int ms = 0; ms < 1000; ms += 100)
        {
            brightness.Add(Attribute("brightness"));
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        Assert.Equal(["255", "255", "255", "255", "255", "255", "255", "255", "255", "0"], brightness);
        Assert.Equal("255", Attribute("brightness"));
        Assert.Equal("none", Attribute("trigger"));
    }

    [Fact]
    public void RootOwnedBlinkDelays_TurnTheLedOverToTheAnimator_WhichBlinksByBrightness()
    {
        // As on the image: the node may write trigger and brightness (udev), but the delay files
        // the kernel makes for the timer trigger belong to root. An immutable file refuses even root.
        string led = _tree.AddLed("ACT");
        string delayOn = Path.Combine(led, "delay_on");
        Assert.Equal(0, Chattr("+i", delayOn));
        try
        {
            var time = new FakeTimeProvider();
            using var animator = new LedAnimator(new SysfsLedDriver(led), time);
            animator.Show(LedPatterns.Leader); // 900 ms on, 100 ms off
            Assert.Equal("none", Attribute("trigger"));
            Assert.Equal("255", Attribute("brightness"));
            time.Advance(TimeSpan.FromMilliseconds(900));
            Assert.Equal("0", Attribute("brightness"));
            time.Advance(TimeSpan.FromMilliseconds(100));
            Assert.Equal("255", Attribute("brightness"));
            Assert.Null(animator.LastError);
        }
        finally
        {
            Chattr("-i", delayOn);
        }
    }

    private static int Chattr(string flag, string path)
    {
        using var process = System.Diagnostics.Process.Start("chattr", [flag, path]);
        process.WaitForExit();
        return process.ExitCode;
    }
}
