using O3Storage.Firmware.Leds;
using O3Storage.Firmware.Status;

namespace O3Storage.Firmware.Tests;

public sealed class LedPatternsTests
{
    [Fact]
    public void EveryPattern_HasAtMostOneOnPhaseAndOneOffPhasePerPeriod_SoNoneLooksLikeAPiFirmwareErrorCode()
    {
        foreach (NodeStatus status in Enum.GetValues<NodeStatus>())
        {
            LedPattern pattern = LedPatterns.For(status);

            // Count the phases on a 1 ms timeline of one period, cyclically: a group of flashes
            // (the firmware's "N flashes then a pause") would show as several on-phases.
            bool[] timeline = [.. pattern.Steps.SelectMany(s => Enumerable.Repeat(s.On, s.DurationMs))];
            int onPhases = 0;
            int offPhases = 0;
            for (int ms = 0; ms < timeline.Length; ms++)
            {
                bool previous = timeline[(ms + timeline.Length - 1) % timeline.Length];
                if (timeline[ms] != previous)
                {
                    if (timeline[ms])
                    {
                        onPhases++;
                    }
                    else
                    {
                        offPhases++;
                    }
                }
            }

            bool steady = timeline.All(on => on == timeline[0]);
            Assert.True(steady ? onPhases == 0 && offPhases == 0 : onPhases == 1 && offPhases == 1, $"{status}: {pattern}");
        }
    }

    [Fact]
    public void EveryStatus_HasItsOwnRhythm_AndItsOwnName()
    {
        NodeStatus[] statuses = Enum.GetValues<NodeStatus>();
        List<LedPattern> patterns = [.. statuses.Select(LedPatterns.For)];

        // Distinct on a single-color LED: the rhythm alone must tell statuses apart.
        Assert.Equal(statuses.Length, patterns.Select(p => string.Join(",", p.Steps)).Distinct().Count());
        Assert.Equal(statuses.Length, patterns.Select(p => p.Name).Distinct().Count());
        Assert.Equal(statuses.Length, patterns.Distinct().Count());
    }

    [Theory]
    [InlineData(NodeStatus.Booting, "booting", "#ffffff", 1000, 0)]
    [InlineData(NodeStatus.Discovering, "discovering", "#00ffff", 500, 500)]
    [InlineData(NodeStatus.Joining, "joining", "#00ffff", 125, 125)]
    [InlineData(NodeStatus.FollowerHealthy, "follower", "#00ff00", 1900, 100)]
    [InlineData(NodeStatus.Leader, "leader", "#0000ff", 900, 100)]
    [InlineData(NodeStatus.Degraded, "degraded", "#ffff00", 1000, 1000)]
    [InlineData(NodeStatus.Maintenance, "maintenance", "#8000ff", 100, 1900)]
    [InlineData(NodeStatus.Fault, "fault", "#ff0000", 50, 50)]
    public void ThePatternTable_IsTheOneDocumentedInTheReadme(NodeStatus status, string name, string color, int onMs, int offMs)
    {
        LedPattern pattern = LedPatterns.For(status);
        Assert.Equal(name, pattern.Name);
        Assert.Equal(color, pattern.Color.ToString());
        Assert.Equal(onMs, pattern.OnMs);
        Assert.Equal(offMs, pattern.OffMs);
        Assert.Equal(offMs == 0, pattern.IsSteady);
    }

    [Fact]
    public void APatternWithAGroupOfFlashes_IsRefused()
    {
        LedStep[] threeFlashes = [new(true, 200), new(false, 200), new(true, 200), new(false, 200), new(true, 200), new(false, 2000)];
        var refused = Assert.Throws<ArgumentException>(() => new LedPattern("error-code", LedColor.Red, threeFlashes));
        Assert.Contains("6 steps", refused.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => new LedPattern("on-on", LedColor.Red, [new(true, 100), new(true, 200)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LedPattern("zero", LedColor.Red, [new(true, 0), new(false, 100)]));
    }

    [Fact]
    public void Patterns_CompareByValue()
    {
        var a = new LedPattern("x", LedColor.Green, [new(true, 100), new(false, 100)]);
        var b = new LedPattern("x", LedColor.Green, [new(true, 100), new(false, 100)]);
        var c = new LedPattern("x", LedColor.Green, [new(true, 100), new(false, 200)]);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, c);
    }
}
