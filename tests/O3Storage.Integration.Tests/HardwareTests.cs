using System.Net;
using System.Text;
using System.Text.Json;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// The real node on a fake Raspberry Pi 4 (a device-tree compatible string, the ACT LED's sysfs
/// files and a thermal zone under --hardware-root): the LED shows the node's state through the
/// kernel's timer trigger, /health and /metrics report board, pattern and temperature, and the LED
/// goes back to the SD-card activity trigger when the node stops.
/// </summary>
public sealed class HardwareTests(ITestOutputHelper output)
{
    private static string FakePi4(string root)
    {
        string board = Path.Combine(root, "board");
        Directory.CreateDirectory(Path.Combine(board, "proc/device-tree"));
        File.WriteAllText(Path.Combine(board, "proc/device-tree/compatible"), "raspberrypi,4-model-b\0brcm,bcm2711\0");
        string led = Path.Combine(board, "sys/class/leds/ACT");
        Directory.CreateDirectory(led);
        File.WriteAllText(Path.Combine(led, "trigger"), "none rc-feedback kbd-scrolllock [mmc0] timer oneshot heartbeat default-on\n");
        File.WriteAllText(Path.Combine(led, "brightness"), "0\n");
        File.WriteAllText(Path.Combine(led, "max_brightness"), "255\n");

        // The kernel makes these when the timer trigger is set; the fake has them from the start.
        File.WriteAllText(Path.Combine(led, "delay_on"), "500\n");
        File.WriteAllText(Path.Combine(led, "delay_off"), "500\n");
        string zone = Path.Combine(board, "sys/class/thermal/thermal_zone0");
        Directory.CreateDirectory(zone);
        File.WriteAllText(Path.Combine(zone, "type"), "cpu-thermal\n");
        File.WriteAllText(Path.Combine(zone, "temp"), "48312\n");
        return board;
    }

    private static string Read(string board, string file) => File.ReadAllText(Path.Combine(board, "sys/class/leds/ACT", file)).Trim();

    [Fact]
    public async Task Pi4Leader_ShowsTheLeaderPattern_ReportsTemperature_AndRestoresTheLedOnStop()
    {
        using var cluster = new TestCluster(52, output);
        string board = FakePi4(cluster.Root);
        NodeProcess node = cluster.Bootstrap(1, "--hardware-root", board);
        await cluster.WaitUntilAsync("leader pattern on the LED", async () =>
            (await cluster.TryHealthAsync(1))?.Body.GetProperty("hardware").GetProperty("led").GetString() == "leader");

        JsonElement hardware = (await cluster.HealthAsync(1)).GetProperty("hardware");
        Assert.Equal("raspberry-pi-4", hardware.GetProperty("board").GetString());
        Assert.Equal("sysfs:ACT", hardware.GetProperty("led_driver").GetString());
        Assert.Equal(48.3, hardware.GetProperty("temperature_celsius").GetDouble());
        Assert.Equal("thermal_zone0 (cpu-thermal)", hardware.GetProperty("temperature_source").GetString());
        Assert.Equal(1.0, hardware.GetProperty("background_work_factor").GetDouble());

        // The leader pattern (on 900 ms, off 100 ms) runs in the kernel: timer trigger, its delays.
        Assert.Equal(("timer", "900", "100"), (Read(board, "trigger"), Read(board, "delay_on"), Read(board, "delay_off")));

        using var http = new HttpClient();
        using HttpResponseMessage metrics = await http.GetAsync($"http://{cluster.NodeId(1)}/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.StartsWith("text/plain", metrics.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        string text = await metrics.Content.ReadAsStringAsync();
        Assert.Contains("o3storage_temperature_celsius{source=\"thermal_zone0 (cpu-thermal)\"} 48.3\n", text, StringComparison.Ordinal);
        Assert.Contains("o3storage_led_pattern{pattern=\"leader\",driver=\"sysfs:ACT\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("o3storage_cluster_is_leader 1\n", text, StringComparison.Ordinal);

        // A hot board: 80 °C is the Pi 4 profile's hard limit, so background work drops to a tenth.
        File.WriteAllText(Path.Combine(board, "sys/class/thermal/thermal_zone0/temp"), "85000\n");
        await cluster.WaitUntilAsync("the node to see the board hot", async () =>
            (await cluster.HealthAsync(1)).GetProperty("hardware").GetProperty("background_work_factor").GetDouble() == 0.1);

        node.Terminate();
        Assert.Equal(0, await node.WaitForExitAsync(TestCluster.WaitTimeout));
        Assert.Equal("mmc0", Read(board, "trigger"));
        Assert.Contains("board raspberry-pi-4: status LED sysfs:ACT, temperature 48.3 °C from thermal_zone0 (cpu-thermal)", node.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoBoard_ReportsTheConsoleLed_AndNoSensor()
    {
        using var cluster = new TestCluster(53, output);
        string empty = Directory.CreateDirectory(Path.Combine(cluster.Root, "laptop")).FullName;
        cluster.Bootstrap(1, "--hardware-root", empty);
        await cluster.WaitUntilAsync("the leader pattern", async () =>
            (await cluster.TryHealthAsync(1))?.Body.GetProperty("hardware").GetProperty("led").GetString() == "leader");
        JsonElement hardware = (await cluster.HealthAsync(1)).GetProperty("hardware");
        Assert.Equal("no board", hardware.GetProperty("board").GetString());
        Assert.Equal("console", hardware.GetProperty("led_driver").GetString());
        Assert.Equal(JsonValueKind.Null, hardware.GetProperty("temperature_celsius").ValueKind);
        Assert.StartsWith("no sensor", hardware.GetProperty("temperature_source").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABrokenBoardProfile_StopsTheStart_NamingTheMistake()
    {
        using var cluster = new TestCluster(54, output);
        string profile = Path.Combine(cluster.Root, "board.json");
        await File.WriteAllTextAsync(profile, """{"name": "mine", "model": "Mine", "compatible": [], "leds": [{"driver": "pwm"}]}""", Encoding.UTF8);
        NodeProcess node = cluster.Bootstrap(1, "--board", profile);
        Assert.Equal(1, await node.WaitForExitAsync(TestCluster.WaitTimeout));
        Assert.Contains("--board", node.Stderr, StringComparison.Ordinal);
        Assert.Contains("leds[0].driver: unknown driver 'pwm'", node.Stderr, StringComparison.Ordinal);
    }
}
