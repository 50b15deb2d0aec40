using O3Storage.Cluster.Health;
using O3Storage.Node.Api;

namespace O3Storage.Node.Tests;

public sealed class MetricsTextTests
{
    private static HealthReport Report(HardwareHealth? hardware) => new(
        "degraded",
        "10.0.0.1:8080",
        Guid.Empty,
        "0.1.80",
        12.5,
        new ClusterHealth("c1", "leader", "10.0.0.1:8080", 3, 2, 3, 2, true, true, 3, "strong", 41, []),
        new StorageHealth(7, 1024, 4096, 3072, "/d", true),
        AuthHealth.Off,
        hardware);

    [Fact]
    public void EveryHealthNumber_IsAGaugeOrACounter_WithHelpAndType()
    {
        string text = MetricsText.Write(Report(new HardwareHealth("raspberry-pi-4", "leader", "sysfs ACT", 48.3, "thermal_zone0 (cpu-thermal)", 1.0)));
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("o3storage_info{node_id=\"10.0.0.1:8080\",version=\"0.1.80\",board=\"raspberry-pi-4\"} 1", lines);
        Assert.Contains("o3storage_up 1", lines);
        Assert.Contains("o3storage_cluster_active_nodes 2", lines);
        Assert.Contains("o3storage_cluster_total_nodes 3", lines);
        Assert.Contains("o3storage_cluster_is_leader 1", lines);
        Assert.Contains("o3storage_cluster_applied_index 41", lines);
        Assert.Contains("o3storage_storage_free_bytes 3072", lines);
        Assert.Contains("o3storage_led_pattern{pattern=\"leader\",driver=\"sysfs ACT\"} 1", lines);
        Assert.Contains("o3storage_temperature_celsius{source=\"thermal_zone0 (cpu-thermal)\"} 48.3", lines);
        Assert.Contains("o3storage_background_work_factor 1", lines);
        Assert.Contains("o3storage_scrub_bad_blobs_total 0", lines);

        // Every sample follows its own HELP and TYPE lines (the exposition format's grouping).
        foreach (string sample in lines.Where(l => !l.StartsWith('#')))
        {
            string name = sample.Split('{', ' ')[0];
            int at = Array.IndexOf(lines, sample);
            // Totals since the node started are counters (named _total); everything else is a gauge.
            Assert.Equal($"# TYPE {name} {(name.EndsWith("_total", StringComparison.Ordinal) ? "counter" : "gauge")}", lines[at - 1]);
            Assert.StartsWith($"# HELP {name} ", lines[at - 2], StringComparison.Ordinal);
        }
    }

    [Fact]
    public void NoSensor_LeavesTheTemperatureOut_AndLabelsAreEscaped()
    {
        string text = MetricsText.Write(Report(new HardwareHealth("my \"board\"", "follower", "console", null, "no sensor", 1.0)));
        Assert.DoesNotContain("o3storage_temperature_celsius", text, StringComparison.Ordinal);
        Assert.Contains("board=\"my \\\"board\\\"\"", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ok", 1)]
    [InlineData("degraded", 1)]
    [InlineData("unavailable", 0)]
    [InlineData("starting", 0)]
    public void Up_IsOneOnlyWhileServing(string status, int up)
    {
        string text = MetricsText.Write(Report(null) with { Status = status });
        Assert.Contains($"\no3storage_up {up}\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AStartingNode_NamesItsPhase()
    {
        string text = MetricsText.Write(Report(null) with { Status = "starting", Startup = new StartupHealth("joining", "joining through 10.0.0.2:8080", 1.5) });
        Assert.Contains("o3storage_starting{phase=\"joining\"} 1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("o3storage_starting", MetricsText.Write(Report(null)), StringComparison.Ordinal);
    }
}
