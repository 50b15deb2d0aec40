using O3Storage.Firmware.Boards;
using O3Storage.Firmware.Sensors;

namespace O3Storage.Firmware.Tests;

public sealed class ThermalThrottleTests
{
    private static readonly ThrottleLimits s_pi = new(70, 80);

    [Theory]
    [InlineData(null, 1.0)]
    [InlineData(25.0, 1.0)]
    [InlineData(70.0, 1.0)]
    [InlineData(72.5, 0.775)]
    [InlineData(75.0, 0.55)]
    [InlineData(80.0, 0.1)]
    [InlineData(95.0, 0.1)]
    public void BackgroundWork_IsFullBelowSoft_LinearToATenthAtHard(double? celsius, double factor) =>
        Assert.Equal(factor, ThermalThrottle.BackgroundWorkFactor(celsius, s_pi), precision: 9);

    [Fact]
    public void TheFactor_NeverRises_WithTemperature_AndNeverReachesZero()
    {
        double previous = 1.0;
        for (double t = 0; t <= 150; t += 0.25)
        {
            double factor = ThermalThrottle.BackgroundWorkFactor(t, s_pi);
            Assert.True(factor <= previous, $"rose at {t} °C");
            Assert.True(factor >= ThermalThrottle.FactorMin, $"below the minimum at {t} °C");
            previous = factor;
        }

        Assert.Equal(0.1, ThermalThrottle.FactorMin);
    }

    [Fact]
    public void LimitsOutOfOrder_AreAProgrammerError() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ThermalThrottle.BackgroundWorkFactor(75, new ThrottleLimits(80, 70)));
}
