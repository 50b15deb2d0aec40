using Amazon.S3;
using Amazon.S3.Model;
using O3Storage.Integration.Tests.Harness;
using PuppeteerSharp;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// The dashboard (/ui) in a real headless browser (Debian's chromium, driven by PuppeteerSharp; nothing
/// downloaded): a 3-node cluster with keys drawn, a killed node shown down, and the maintenance toggle
/// refused without a key and done with one. Screenshots land in artifacts/dashboard.
/// </summary>
public sealed class DashboardTests(ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";

    private static string Screenshots { get; } = Directory.CreateDirectory(Path.Combine(NodeBinary.RepositoryRoot, "artifacts", "dashboard")).FullName;

    [Fact]
    public async Task Dashboard_InChromium_ShowsThreeMembers_AKilledOneDown_MaintenanceNeedsAnAdminKey()
    {
        using var keys = new KeyFile();
        using TestCluster cluster = await TestCluster.StartAsync(86, 3, output, "--api-keys", keys.Path);
        using (AmazonS3Client s3 = KeyFile.Client(cluster, 1, keys.ReadWrite))
        {
            await s3.PutBucketAsync("photos");
            for (int i = 0; i < 30; i++)
            {
                await s3.PutObjectAsync(new PutObjectRequest { BucketName = "photos", Key = $"2026/{i:D3}.jpg", ContentBody = new string('p', 20_000 + (i * 997)) });
            }
        }

        await using IBrowser browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // Root in a container: no sandbox; a small /dev/shm: use /tmp.
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
            DefaultViewport = new ViewPortOptions { Width = 1280, Height = 1000 },
        });
        await using IPage page = await browser.NewPageAsync();
        var consoleErrors = new List<string>();
        page.Console += (_, e) =>
        {
            if (e.Message.Type == ConsoleType.Error)
            {
                consoleErrors.Add(e.Message.Text);
            }
        };
        IResponse response = await page.GoToAsync($"http://{cluster.NodeId(2)}/ui");
        Assert.True(response.Ok, $"/ui answered {response.Status}");

        // Three members drawn, one leader, healthy; every board's card with its objects.
        await WaitAsync(page, "three members, healthy", "document.querySelectorAll('#picture g.member').length === 3 && document.body.dataset.health === 'healthy'");
        string[] drawn = await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#picture g.member')].map(g => g.dataset.id + '=' + g.dataset.state)");
        output.WriteLine(string.Join(", ", drawn));
        Assert.Equal([.. Enumerable.Range(1, 3).Select(cluster.NodeId)], drawn.Select(d => d.Split('=')[0]));
        Assert.Single(drawn, d => d.EndsWith("=leader", StringComparison.Ordinal));
        Assert.Equal(2, drawn.Count(d => d.EndsWith("=follower", StringComparison.Ordinal)));
        await WaitAsync(page, "the objects on the boards", "[...document.querySelectorAll('.node-card')].every(c => /objects\\s*30/.test(c.textContent))");
        Assert.Contains("healthy: 3/3 members up", await page.EvaluateExpressionAsync<string>("document.getElementById('health').textContent"));
        await page.ScreenshotAsync(Path.Combine(Screenshots, "dashboard.png"));

        // A node killed: drawn down, the health line says so.
        string leader = await cluster.WaitForAgreedLeaderAsync([1, 2, 3]);
        int killed = new[] { 1, 3 }.First(n => cluster.NodeId(n) != leader);
        cluster.Kill(killed);
        await WaitAsync(page, "the killed member down", $"document.querySelector('#picture g.member[data-id=\"{cluster.NodeId(killed)}\"]').dataset.state === 'down' && document.body.dataset.health === 'degraded'");
        Assert.Contains($"{cluster.NodeId(killed)} does not answer", await page.EvaluateExpressionAsync<string>("document.getElementById('health').textContent"));
        await page.ScreenshotAsync(Path.Combine(Screenshots, "dashboard-node-down.png"));

        // Maintenance: without a key the node refuses and the page asks for one; with the admin key it is on, then off.
        await page.ClickAsync("#maintenance-button");
        await WaitAsync(page, "the refusal", "document.getElementById('admin-message').textContent.includes('admin key') && document.getElementById('key-dialog').open");
        await page.TypeAsync("#key-input", keys.Admin);
        await page.ClickAsync("#key-dialog button[value=save]");
        await WaitAsync(page, "the key kept", "document.getElementById('key-state').textContent === 'admin key set'");
        await page.ClickAsync("#maintenance-button");
        await WaitAsync(page, "maintenance on", "document.getElementById('maintenance-line').textContent.startsWith('on since') && document.getElementById('maintenance-button').textContent === 'Leave maintenance'");
        Assert.True((await cluster.HealthAsync(2)).GetProperty("cluster").GetProperty("maintenance").GetProperty("enabled").GetBoolean());
        await page.ClickAsync("#maintenance-button");
        await WaitAsync(page, "maintenance off", "document.getElementById('maintenance-line').textContent.startsWith('off')");

        // The page's own events list: the node it is served from logged the kill.
        Assert.Contains("information", await page.EvaluateExpressionAsync<string>("document.getElementById('events').textContent"));
        // The one error the browser logs is the refused call (403); nothing else went wrong in the page.
        Assert.DoesNotContain(consoleErrors, e => !e.Contains("403", StringComparison.Ordinal));
    }

    private async Task WaitAsync(IPage page, string what, string condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await page.WaitForFunctionAsync($"() => {{ try {{ return {condition}; }} catch (e) {{ return false; }} }}", new WaitForFunctionOptions { Timeout = 60_000, PollingInterval = 100 });
        }
        catch (WaitTaskTimeoutException)
        {
            await page.ScreenshotAsync(Path.Combine(Screenshots, "timeout.png"));
            output.WriteLine(await page.EvaluateExpressionAsync<string>("document.body.innerText"));
            throw;
        }

        output.WriteLine($"{clock.ElapsedMilliseconds,6} ms: the page shows {what}");
    }
}
