using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>Objects under faults: a replica holder killed mid-stream, garbage from deletes and from writes that never committed.</summary>
public sealed class ObjectFaultTests(ITestOutputHelper output)
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private static byte[] Bytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static async Task<long> HealthNumberAsync(TestCluster cluster, int node, string field) =>
        (await cluster.HealthAsync(node)).GetProperty("storage").GetProperty(field).GetInt64();

    [Fact]
    public async Task KillingAReplicaHolder_DuringPutsAndGets_LosesNoAcknowledgedObject_AndReadsKeepWorking()
    {
        // A grace well above any commit stall on a loaded machine: this test is about the kill, not the collector.
        using TestCluster cluster = await TestCluster.StartAsync(46, 3, output, "--orphan-grace", "20s");
        string leader = await cluster.WaitForAgreedLeaderAsync([1, 2, 3]);
        int victim = new[] { 1, 2, 3 }.Last(n => cluster.NodeId(n) != leader);
        int[] survivors = [.. new[] { 1, 2, 3 }.Where(n => n != victim)];
        Assert.Equal(HttpStatusCode.OK, (await s_http.PutAsync($"http://{cluster.NodeId(1)}/stream", null)).StatusCode);

        var acknowledged = new ConcurrentDictionary<string, byte[]>();
        var readFailures = new ConcurrentBag<string>();
        int writesRefused = 0;
        int readsRetried = 0;
        var refusals = new ConcurrentDictionary<string, int>();
        bool victimDown = false;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(14)); // bounded: the load stops by itself

        async Task WriteLoopAsync(int worker)
        {
            for (int i = 0; i < 1200 && !stop.IsCancellationRequested; i++)
            {
                string key = $"w{worker}/o{i}";
                byte[] body = Bytes(i % 128 == 0 ? (4 << 20) + 1000 + i : 1000 + i, (worker * 100_000) + i); // a few span two blobs: the test devices hold one usable 132 MiB segment
                int node = Volatile.Read(ref victimDown) ? survivors[i % 2] : 1 + (i % 3);
                try
                {
                    using HttpResponseMessage response = await s_http.PutAsync($"http://{cluster.NodeId(node)}/stream/{key}", new ByteArrayContent(body));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        acknowledged[key] = body;
                    }
                    else
                    {
                        Interlocked.Increment(ref writesRefused);
                        string why = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                        refusals.AddOrUpdate(why.Length > 200 ? why[..200] : why, 1, (_, n) => n + 1);
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref writesRefused); // the node died under this request: not acknowledged
                }
            }
        }

        async Task ReadLoopAsync(int worker)
        {
            var random = new Random(worker);
            while (!stop.IsCancellationRequested)
            {
                string[] keys = [.. acknowledged.Keys];
                if (keys.Length == 0)
                {
                    await Task.Delay(20);
                    continue;
                }

                string key = keys[random.Next(keys.Length)];
                int node = survivors[random.Next(2)];
                string? failure = await ReadAsync(node, key);
                if (failure is not null)
                {
                    readFailures.Add($"{key} via {node}: {failure}");
                }
            }
        }

        // As an S3 SDK reads: a 503 (an election on a loaded machine stalls the read barrier) is
        // retried for up to 10 s; anything else that is not the acknowledged bytes is a failure.
        async Task<string?> ReadAsync(int node, string key)
        {
            var retrying = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    using HttpResponseMessage response = await s_http.GetAsync($"http://{cluster.NodeId(node)}/stream/{key}");
                    if (response.StatusCode == HttpStatusCode.ServiceUnavailable && retrying.Elapsed < TimeSpan.FromSeconds(10))
                    {
                        Interlocked.Increment(ref readsRetried);
                        await Task.Delay(200);
                        continue;
                    }

                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                    }

                    byte[] read = await response.Content.ReadAsByteArrayAsync();
                    return read.AsSpan().SequenceEqual(acknowledged[key]) ? null : "wrong bytes";
                }
                catch (HttpRequestException e)
                {
                    return e.Message;
                }
            }
        }

        Task[] load = [WriteLoopAsync(1), WriteLoopAsync(2), ReadLoopAsync(1), ReadLoopAsync(2)];
        await Task.Delay(TimeSpan.FromSeconds(3));
        Volatile.Write(ref victimDown, true);
        cluster.Kill(victim);
        output.WriteLine($"killed node {victim} with {acknowledged.Count} objects acknowledged");
        await Task.Delay(TimeSpan.FromSeconds(5));
        cluster.Start(victim);
        await Task.WhenAll(load);
        await cluster.WaitForActiveNodesAsync([1, 2, 3], 3);
        output.WriteLine($"{acknowledged.Count} objects acknowledged, {writesRefused} writes refused or cut off, {readsRetried} reads retried after a 503");
        foreach ((string why, int count) in refusals.OrderByDescending(r => r.Value).Take(5))
        {
            output.WriteLine($"  {count} x {why}");
        }
        Assert.Empty(readFailures);
        Assert.True(acknowledged.Count > 20, $"only {acknowledged.Count} writes succeeded");

        // Objects written while it was down are copied to it by repair, until it holds what a survivor holds.
        int survivor = survivors[0];
        await cluster.WaitUntilAsync($"node {victim} re-replicated to: as many objects as node {survivor}", async () =>
            await HealthNumberAsync(cluster, victim, "total_objects") is long held && held >= acknowledged.Count && held == await HealthNumberAsync(cluster, survivor, "total_objects"),
            TimeSpan.FromSeconds(120));

        // Every acknowledged object, whole, through every node (the returned one included).
        foreach ((string key, byte[] body) in acknowledged)
        {
            foreach (int node in new[] { 1, 2, 3 })
            {
                byte[] read = await s_http.GetByteArrayAsync($"http://{cluster.NodeId(node)}/stream/{key}");
                Assert.True(read.AsSpan().SequenceEqual(body), $"{key} via node {node}: {read.Length} bytes, expected {body.Length}");
            }
        }
    }

    [Fact]
    public async Task DeletedObjects_AndWritesThatNeverCommitted_AreCollected_AndHealthCountsObjectsPerNode()
    {
        using TestCluster cluster = await TestCluster.StartAsync(47, 3, output, "--orphan-grace", "3s");
        string leader = await cluster.WaitForAgreedLeaderAsync([1, 2, 3]);
        int front = new[] { 1, 2, 3 }.First(n => cluster.NodeId(n) != leader);
        Assert.Equal(HttpStatusCode.OK, (await s_http.PutAsync($"http://{cluster.NodeId(1)}/gcbucket", null)).StatusCode);
        long baseline = await HealthNumberAsync(cluster, leader == cluster.NodeId(1) ? 2 : 1, "used_space_bytes");

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await s_http.PutAsync($"http://{cluster.NodeId(1)}/gcbucket/o{i}", new ByteArrayContent(Bytes(3 << 20, i)))).StatusCode);
        }

        foreach (int node in new[] { 1, 2, 3 })
        {
            // A PUT waits for every replica's store, but a follower applies the commit a heartbeat later.
            await cluster.WaitUntilAsync($"node {node} counts the 3 objects", async () => await HealthNumberAsync(cluster, node, "total_objects") == 3); // replication factor 3 on 3 nodes
            Assert.True(await HealthNumberAsync(cluster, node, "used_space_bytes") >= 9 << 20);
        }

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.NoContent, (await s_http.DeleteAsync($"http://{cluster.NodeId(2)}/gcbucket/o{i}")).StatusCode);
        }

        foreach (int node in new[] { 1, 2, 3 })
        {
            await cluster.WaitUntilAsync($"node {node} counts no objects", async () => await HealthNumberAsync(cluster, node, "total_objects") == 0);
            await cluster.WaitUntilAsync($"node {node} collected the deleted objects' blobs", async () => await HealthNumberAsync(cluster, node, "used_space_bytes") <= baseline);
        }

        // A PUT whose accepting node dies after its first 4 MiB blob reached the replicas: never committed,
        // never cleaned up by its writer; the other nodes collect it after the orphan grace.
        int[] others = [.. new[] { 1, 2, 3 }.Where(n => n != front)];
        using (var socket = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(IPAddress.Parse(cluster.Ip(front)), TestCluster.ApiPort);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"PUT /gcbucket/orphan HTTP/1.1\r\nHost: {cluster.NodeId(front)}\r\nContent-Length: {16 << 20}\r\n\r\n"));
            byte[] chunk = Bytes(1 << 20, 7);
            for (int i = 0; i < 6; i++)
            {
                await socket.SendAsync(chunk);
            }

            await cluster.WaitUntilAsync("the first blob of the unfinished PUT reached the other replicas", async () =>
                (await Task.WhenAll(others.Select(n => HealthNumberAsync(cluster, n, "used_space_bytes")))).All(used => used >= baseline + (4 << 20)));
            cluster.Kill(front);
        }

        foreach (int node in others)
        {
            await cluster.WaitUntilAsync($"node {node} collected the orphan", async () => await HealthNumberAsync(cluster, node, "used_space_bytes") <= baseline);
        }

        cluster.Start(front);
        await cluster.WaitForActiveNodesAsync([1, 2, 3], 3);
        Assert.Equal(HttpStatusCode.NotFound, (await s_http.GetAsync($"http://{cluster.NodeId(others[0])}/gcbucket/orphan")).StatusCode);

        // A body slower than half the orphan grace is refused rather than committed: its first blobs may be collected already.
        using (var slowClient = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            await slowClient.ConnectAsync(IPAddress.Parse(cluster.Ip(others[0])), TestCluster.ApiPort);
            byte[] body = Bytes(1 << 20, 9);
            await slowClient.SendAsync(Encoding.ASCII.GetBytes($"PUT /gcbucket/slow HTTP/1.1\r\nHost: {cluster.NodeId(others[0])}\r\nContent-Length: {body.Length}\r\n\r\n"));
            await slowClient.SendAsync(body.AsMemory(0, 1000));
            await Task.Delay(TimeSpan.FromSeconds(2));
            await slowClient.SendAsync(body.AsMemory(1000));
            // The answer may come in more than one segment: read until the error document ends or the node closes.
            var answer = new StringBuilder();
            byte[] buffer = new byte[4096];
            using var readLimit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!answer.ToString().Contains("</Error>", StringComparison.Ordinal))
            {
                int read = await slowClient.ReceiveAsync(buffer, SocketFlags.None, readLimit.Token);
                if (read == 0)
                {
                    break;
                }

                answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            string why = answer.ToString();
            Assert.True(why.StartsWith("HTTP/1.1 400", StringComparison.Ordinal) && why.Contains("<Code>RequestTimeout</Code>", StringComparison.Ordinal), why);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await s_http.GetAsync($"http://{cluster.NodeId(front)}/gcbucket/slow")).StatusCode);
    }
}
