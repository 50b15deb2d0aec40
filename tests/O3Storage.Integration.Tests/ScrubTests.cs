using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>Bit rot under a running node: no client reads the object, the scrub finds it, repair rewrites it.</summary>
public sealed class ScrubTests(ITestOutputHelper output)
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task ABlobCorruptedOnDisk_IsFoundByTheScrub_AndRepairedFromAnotherReplica()
    {
        using TestCluster cluster = await TestCluster.StartAsync(63, 3, output, "--scrub-interval", "1s", "--scrub-rate", "1G");
        byte[] content = new byte[300_000];
        new Random(63).NextBytes(content);
        Assert.Equal(HttpStatusCode.OK, (await s_http.PutAsync($"http://{cluster.NodeId(1)}/rot", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await s_http.PutAsync($"http://{cluster.NodeId(1)}/rot/victim", new ByteArrayContent(content))).StatusCode);

        // Node 2's copy rots: one byte in the middle, written past the node (its device file, fsynced). The
        // node holds the device under flock, which .NET's own file opening honours, so plain os calls do it.
        string needle = Path.Combine(cluster.Root, "needle.bin");
        await File.WriteAllBytesAsync(needle, content.AsMemory(150_000, 256).ToArray());
        string at = await Tool.RunAsync(output, new Dictionary<string, string?>(), "python3", "-c", FlipScript, Path.Combine(cluster.DataDirectory(2), "blobs.dev"), needle);
        output.WriteLine($"flipped a byte of node 2's copy at device offset {at.Trim()}");

        await cluster.WaitUntilAsync("node 2's scrub finds the damaged blob", async () => Scrub(await cluster.HealthAsync(2)).GetProperty("bad_found").GetInt64() >= 1);
        await cluster.WaitUntilAsync("node 2 repairs it from another replica", () => Task.FromResult(cluster.Process(2).Stdout.Contains("repaired blob", StringComparison.Ordinal)));

        string metrics = await s_http.GetStringAsync($"http://{cluster.NodeId(2)}/metrics");
        Assert.Contains("o3storage_scrub_bad_blobs_total 1\n", metrics, StringComparison.Ordinal);

        // Restarted (its scrub remembers nothing), node 2 reads its whole store back: the repaired copy is good.
        cluster.Process(2).Terminate();
        await cluster.Process(2).WaitForExitAsync(TimeSpan.FromSeconds(30));
        cluster.Start(2, "--scrub-interval", "1s", "--scrub-rate", "1G");
        await cluster.WaitUntilAsync("a full scrub pass on the restarted node 2", async () =>
            await cluster.TryHealthAsync(2) is { Status: HttpStatusCode.OK } h && Scrub(h.Body).GetProperty("passes").GetInt64() >= 1);
        JsonElement scrub = Scrub(await cluster.HealthAsync(2));
        Assert.Equal(0, scrub.GetProperty("bad_found").GetInt64());
        Assert.True(scrub.GetProperty("checked_bytes").GetInt64() >= content.Length);
        byte[] read = await s_http.GetByteArrayAsync($"http://{cluster.NodeId(2)}/rot/victim");
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(read));
    }

    private static JsonElement Scrub(JsonElement health) => health.GetProperty("storage").GetProperty("scrub");

    /// <summary>Finds the needle file's bytes in the device file, flips the byte 100 past them, fsyncs, prints the offset; exits 1 if absent.</summary>
    private const string FlipScript = """
        import os, sys
        device, needle = sys.argv[1], open(sys.argv[2], "rb").read()
        fd = os.open(device, os.O_RDWR)
        offset, carry, chunk = 0, b"", 4 << 20
        while True:
            data = os.pread(fd, chunk, offset)
            if not data:
                sys.exit("needle not found")
            window = carry + data
            found = window.find(needle)
            if found >= 0:
                at = offset - len(carry) + found + 100
                byte = os.pread(fd, 1, at)
                os.pwrite(fd, bytes([byte[0] ^ 0xFF]), at)
                os.fsync(fd)
                print(at)
                break
            carry = window[-(len(needle) - 1):]
            offset += len(data)
        """;
}
