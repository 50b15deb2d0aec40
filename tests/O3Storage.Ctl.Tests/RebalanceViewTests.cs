using O3Storage.Ctl.Api;
using O3Storage.Ctl.Views;

namespace O3Storage.Ctl.Tests;

public sealed class RebalanceViewTests
{
    private static RebalanceAnswer Status(string state, long objectsMoved, long objectsTotal, long bytesMoved, long bytesTotal, double? eta) =>
        new(state, "even_distribution", "admin", "10.0.0.1:8080", null, null, objectsTotal, objectsMoved, bytesTotal, bytesMoved, 0, 2 << 20, 4, eta, 0, objectsTotal - objectsMoved, [], null);

    [Fact]
    public void Line_Running_SaysMovedRateAndTimeLeft()
    {
        RebalanceAnswer status = Status("running", 12, 40, 3 << 20, 10 << 20, 4.4);
        Assert.Equal("running: 12/40 objects, 3.0 MiB of 10.0 MiB, 2.0 MiB/s (4 objects/s), about 4 s left", RebalanceView.Line(status));
        Assert.Equal(30, RebalanceView.Percent(status));
        Assert.True(RebalanceView.IsRunning(status));
    }

    [Fact]
    public void Percent_EmptyObjects_CountsObjects_DoneIsWhole()
    {
        Assert.Equal(50, RebalanceView.Percent(Status("running", 2, 4, 0, 0, null)));
        Assert.Equal(100, RebalanceView.Percent(Status("done", 0, 0, 0, 0, null)));
    }

    [Theory]
    [InlineData(null, "time left unknown")]
    [InlineData(59.4, "about 59 s left")]
    [InlineData(600.0, "about 10 min left")]
    [InlineData(5400.0, "about 1.5 h left")]
    public void Eta_InUnitsAPersonReads(double? seconds, string expected) => Assert.Equal(expected, RebalanceView.Eta(seconds));
}
