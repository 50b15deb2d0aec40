using Microsoft.Extensions.Time.Testing;
using O3Storage.Firmware.Leds;

namespace O3Storage.Firmware.Tests;

public sealed class LedAnimatorTests
{
    private readonly FakeTimeProvider _time = new();

    /// <summary>Moves the fake clock 1 ms at a time, so every timer fires at exactly its due time.</summary>
    private void Run(int milliseconds)
    {
        for (int i = 0; i < milliseconds; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }
    }

    [Fact]
    public void ADriverThatCannotBlink_GetsEachPhaseAtTheExactStepBoundary()
    {
        var led = new RecordingLedDriver(_time, runsPatterns: false);
        using var animator = new LedAnimator(led, _time);

        animator.Show(LedPatterns.FollowerHealthy);
        Run(4100);

        Assert.Equal(["0 on #00ff00", "1900 off", "2000 on #00ff00", "3900 off", "4000 on #00ff00"], led.Calls);
    }

    [Fact]
    public void ADriverThatRunsPatterns_IsHandedThePatternOnce_AndNotTouchedByTheTimer()
    {
        var led = new RecordingLedDriver(_time, runsPatterns: true);
        using var animator = new LedAnimator(led, _time);

        animator.Show(LedPatterns.Leader);
        Run(5000);
        animator.Show(LedPatterns.Degraded);
        Run(5000);

        Assert.Equal(["0 run leader", "5000 run degraded"], led.Calls);
    }

    [Fact]
    public void ANewStatus_SwitchesThePatternImmediately_AndRestartsItsRhythm()
    {
        var led = new RecordingLedDriver(_time, runsPatterns: false);
        using var animator = new LedAnimator(led, _time);

        animator.Show(LedPatterns.Discovering);
        Run(730);
        animator.Show(LedPatterns.Fault);
        Run(160);

        // The discovering timer (due at 1000) must not fire into the fault pattern.
        Run(400);
        Assert.Equal(
            ["0 on #00ffff", "500 off", "730 on #ff0000", "780 off", "830 on #ff0000", "880 off"],
            led.Calls.Take(6));
        Assert.DoesNotContain(led.Calls, c => c.Contains("#00ffff", StringComparison.Ordinal) && !c.StartsWith("0 ", StringComparison.Ordinal));
        Assert.Equal("fault", animator.Pattern!.Name);
    }

    [Fact]
    public void ShowingTheSamePatternAgain_DoesNotRestartIt()
    {
        var led = new RecordingLedDriver(_time, runsPatterns: false);
        using var animator = new LedAnimator(led, _time);

        animator.Show(LedPatterns.Leader);
        Run(500);
        animator.Show(LedPatterns.Leader);
        Run(500);

        Assert.Equal(["0 on #0000ff", "900 off", "1000 on #0000ff"], led.Calls);
    }

    [Fact]
    public void ASteadyPattern_IsOneCall_WithNoTimer()
    {
        var led = new RecordingLedDriver(_time, runsPatterns: false);
        using var animator = new LedAnimator(led, _time);

        animator.Show(LedPatterns.Booting);
        Run(3000);

        Assert.Equal(["0 on #ffffff"], led.Calls);
    }

    [Fact]
    public void Dispose_StopsTheTimer_AndDisposesTheDriver()
    {
        var led = new RecordingLedDriver(_time, runsPatterns: false);
        var animator = new LedAnimator(led, _time);
        animator.Show(LedPatterns.Joining);
        Run(130);

        animator.Dispose();
        Run(1000);
        animator.Dispose();

        Assert.Equal(["0 on #00ffff", "125 off", "130 dispose"], led.Calls);
        Assert.Throws<ObjectDisposedException>(() => animator.Show(LedPatterns.Leader));
    }

    [Fact]
    public void ADriverError_IsKept_NotThrown_AndTheNextBoundaryTriesAgain()
    {
        var led = new RecordingLedDriver(_time, runsPatterns: false) { FailWith = "LED unplugged" };
        using var animator = new LedAnimator(led, _time);

        animator.Show(LedPatterns.Leader);
        Assert.Equal("LED unplugged", animator.LastError);
        Run(950);

        led.FailWith = null;
        Run(100);

        Assert.Null(animator.LastError);
        Assert.Equal(["1000 on #0000ff"], led.Calls);
    }

    [Fact]
    public void ALateTimer_ShowsThePhaseThatIsCurrent_WithoutDrifting()
    {
        var led = new RecordingLedDriver(_time, runsPatterns: false);
        using var animator = new LedAnimator(led, _time);
        animator.Show(LedPatterns.Leader);

        // One jump over several boundaries (a stalled machine): whatever fires lands on the phase of
        // the moment, and later boundaries stay on the original 1 s grid.
        _time.Advance(TimeSpan.FromMilliseconds(2950));
        Run(1000);

        Assert.Equal("0 on #0000ff", led.Calls[0]);
        Assert.Equal(["3000 on #0000ff", "3900 off"], led.Calls.TakeLast(2));
        foreach (string call in led.Calls)
        {
            long at = long.Parse(call.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(at == 2950 || at % 1000 is 0 or 900, $"off the pattern's grid: {call}");
        }
    }
}
