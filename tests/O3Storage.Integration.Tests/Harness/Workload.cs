using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;

namespace O3Storage.Integration.Tests.Harness;

/// <summary>
/// The objects of a lifecycle scenario over plain HTTP (authentication off, as the guide runs): a seed of
/// single-PUT and multipart objects, a writer and a reader running during an operation, and the check
/// that every acknowledged object reads back with its SHA-256 through every node. Every loop is bounded.
/// </summary>
internal sealed class Workload(TestCluster cluster, string bucket = "lifecycle")
{
    private static readonly HttpClient s_http = new(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(2) })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    private readonly ConcurrentDictionary<string, byte[]> _acknowledged = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _readFailures = new();
    private int _reads;
    private int _writes;
    private int _refusedWrites;

    /// <summary>Every key the cluster acknowledged, with the SHA-256 of what was written.</summary>
    public IReadOnlyDictionary<string, byte[]> Acknowledged => _acknowledged;

    public IReadOnlyCollection<string> ReadFailures => _readFailures;

    public int Reads => _reads;

    /// <summary>The last error answer a read got (status and body), for the failure message.</summary>
    private string? LastError { get; set; }

    public int Writes => _writes;

    /// <summary>Writes of the write loop a node answered with an error (a 503 during a leader change, say); not acknowledged.</summary>
    public int RefusedWrites => _refusedWrites;

    public string Bucket => bucket;

    /// <summary>Creates the bucket and writes <paramref name="count"/> objects through <paramref name="nodes"/> in turn: every tenth multipart (two parts, the first 5 MiB), the rest 1-16 KiB.</summary>
    public async Task SeedAsync(IReadOnlyList<int> nodes, int count = 500)
    {
        using (HttpResponseMessage created = await s_http.PutAsync($"http://{cluster.NodeId(nodes[0])}/{bucket}", null))
        {
            Assert.True(created.IsSuccessStatusCode, $"bucket: {created.StatusCode}");
        }

        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, token) =>
        {
            int node = nodes[i % nodes.Count];
            string key = $"seed/{i:D4}";
            bool multipart = i % 10 == 0 && i < 100; // ten multipart objects: 50 MiB, enough to move real bytes
            byte[] data = Bytes(multipart ? (5 << 20) + 1000 + i : 1024 + (i * 31 % 15_000), i);
            bool stored = multipart ? await PutMultipartAsync(node, key, data, token) : await PutAsync(node, key, data, token);
            Assert.True(stored, $"seeding {key} through {cluster.NodeId(node)} failed");
        });
        Assert.Equal(count, _acknowledged.Count);
    }

    /// <summary>Writes and reads until <paramref name="token"/> is cancelled (at most <paramref name="limit"/>), each through a node <paramref name="nodes"/> names at that moment.</summary>
    public async Task RunAsync(Func<IReadOnlyList<int>> nodes, CancellationToken token, TimeSpan? limit = null)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(token);
        bounded.CancelAfter(limit ?? TimeSpan.FromMinutes(5));
        await Task.WhenAll(WriteLoopAsync(nodes, bounded.Token), ReadLoopAsync(nodes, bounded.Token), ReadLoopAsync(nodes, bounded.Token));
    }

    /// <summary>Every acknowledged object, through every one of <paramref name="nodes"/>, must have the SHA-256 it was written with.</summary>
    public async Task VerifyAsync(IReadOnlyList<int> nodes)
    {
        var wrong = new ConcurrentQueue<string>();
        await Parallel.ForEachAsync(_acknowledged, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (pair, token) =>
        {
            foreach (int node in nodes)
            {
                (HttpStatusCode status, byte[]? hash) = await GetHashAsync(node, pair.Key, token);
                if (status != HttpStatusCode.OK || !hash!.AsSpan().SequenceEqual(pair.Value))
                {
                    wrong.Enqueue($"{pair.Key} via {cluster.NodeId(node)}: {(int)status}{(status == HttpStatusCode.OK ? " with other bytes" : string.Empty)}");
                }
            }
        });
        Assert.True(wrong.IsEmpty, $"{wrong.Count} reads wrong: {string.Join("; ", wrong.Take(10))}");
    }

    /// <summary>
    /// <paramref name="writers"/> clients writing objects of <paramref name="objectBytes"/> back to back, each through node
    /// <c>nodes[writer % count]</c>, until <paramref name="token"/> is cancelled (at most two minutes).
    /// A write that fails or is cut off is simply not acknowledged; keys are <c>{prefix}/{writer}/{n}</c>.
    /// </summary>
    public async Task BurstAsync(IReadOnlyList<int> nodes, int writers, string prefix, CancellationToken token, int objectBytes = 4096)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(token);
        bounded.CancelAfter(TimeSpan.FromMinutes(2));
        await Task.WhenAll(Enumerable.Range(0, writers).Select(async writer =>
        {
            for (int n = 0; !bounded.Token.IsCancellationRequested; n++)
            {
                try
                {
                    await PutAsync(nodes[writer % nodes.Count], $"{prefix}/{writer:D2}/{n:D5}", Bytes(objectBytes, HashCode.Combine(prefix, writer, n)), bounded.Token);
                    Interlocked.Increment(ref _writes);
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
                {
                    await Task.Delay(50, CancellationToken.None); // the node is down: try again shortly, as a client would
                }
            }
        }));
    }

    /// <summary>Writes <paramref name="key"/> (<paramref name="length"/> bytes from <paramref name="seed"/>) through <paramref name="node"/>; false when refused.</summary>
    public Task<bool> WriteAsync(int node, string key, int length, int seed) => PutAsync(node, key, Bytes(length, seed), CancellationToken.None);

    /// <summary>Deletes <paramref name="key"/> through <paramref name="node"/>; it is no longer expected to read back.</summary>
    public async Task DeleteAsync(int node, string key)
    {
        using HttpResponseMessage response = await s_http.DeleteAsync($"http://{cluster.NodeId(node)}/{bucket}/{key}");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        _acknowledged.TryRemove(key, out _);
    }

    /// <summary>From now on, exactly <paramref name="expected"/> is what the bucket should hold (a restore set it back).</summary>
    public void ExpectExactly(IReadOnlyDictionary<string, byte[]> expected)
    {
        _acknowledged.Clear();
        foreach ((string key, byte[] hash) in expected)
        {
            _acknowledged[key] = hash;
        }
    }

    /// <summary>Each of <paramref name="keys"/> reads 404 NoSuchKey through every one of <paramref name="nodes"/>.</summary>
    public async Task VerifyAbsentAsync(IEnumerable<string> keys, IReadOnlyList<int> nodes)
    {
        foreach (string key in keys)
        {
            foreach (int node in nodes)
            {
                (HttpStatusCode status, _) = await GetHashAsync(node, key, CancellationToken.None);
                Assert.True(status == HttpStatusCode.NotFound, $"{key} via {cluster.NodeId(node)}: {(int)status}, not 404");
            }
        }
    }

    /// <summary>Every one of <paramref name="nodes"/> lists the same keys, and those include every acknowledged one.</summary>
    public async Task AssertNodesAgreeAsync(IReadOnlyList<int> nodes)
    {
        IReadOnlyList<string> first = await ListAsync(nodes[0]);
        foreach (int node in nodes.Skip(1))
        {
            Assert.Equal(first, await ListAsync(node));
        }

        Assert.Empty(_acknowledged.Keys.Except(first));
    }

    /// <summary>The keys a listing through <paramref name="node"/> returns (every page), for comparing what the nodes agree on.</summary>
    public async Task<IReadOnlyList<string>> ListAsync(int node)
    {
        var keys = new List<string>();
        string? token = null;
        do
        {
            string url = $"http://{cluster.NodeId(node)}/{bucket}?list-type=2&max-keys=1000" + (token is null ? string.Empty : $"&continuation-token={Uri.EscapeDataString(token)}");
            XDocument page = XDocument.Parse(await s_http.GetStringAsync(url));
            keys.AddRange(page.Descendants().Where(e => e.Name.LocalName == "Key").Select(e => e.Value));
            token = page.Descendants().FirstOrDefault(e => e.Name.LocalName == "NextContinuationToken")?.Value;
        }
        while (token is not null);
        return keys;
    }

    private async Task WriteLoopAsync(Func<IReadOnlyList<int>> nodes, CancellationToken token)
    {
        for (int i = 0; !token.IsCancellationRequested; i++)
        {
            IReadOnlyList<int> up = nodes();
            string key = $"load/{i:D5}";
            try
            {
                // A write may fail during the operation (a leader change answers 503): it is just not acknowledged.
                if (await PutAsync(up[i % up.Count], key, Bytes(2048 + (i % 4096), 100_000 + i), token))
                {
                    Interlocked.Increment(ref _writes);
                }
                else
                {
                    Interlocked.Increment(ref _refusedWrites);
                }
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
            }

            await Task.Delay(20, CancellationToken.None);
        }
    }

    private async Task ReadLoopAsync(Func<IReadOnlyList<int>> nodes, CancellationToken token)
    {
        var random = new Random(Environment.CurrentManagedThreadId);
        string[] keys = [.. _acknowledged.Keys];
        while (!token.IsCancellationRequested)
        {
            string key = keys[random.Next(keys.Length)];
            IReadOnlyList<int> up = nodes();
            int node = up[random.Next(up.Count)];
            try
            {
                (HttpStatusCode status, byte[]? hash) = await GetHashAsync(node, key, token);
                if (status == HttpStatusCode.ServiceUnavailable && await IsRemovedAsync(node))
                {
                    continue; // a node the cluster removed serves nothing: like a stopped one, the client goes elsewhere
                }

                if (status == HttpStatusCode.ServiceUnavailable && !nodes().Contains(node))
                {
                    continue; // the scenario stopped this node while the read was in flight: 503 is S3's "try again", and the client does, elsewhere
                }

                Interlocked.Increment(ref _reads);
                if (status != HttpStatusCode.OK || !hash!.AsSpan().SequenceEqual(_acknowledged[key]))
                {
                    _readFailures.Enqueue($"{key} via {cluster.NodeId(node)} at {DateTimeOffset.UtcNow:HH:mm:ss.fff}: {(status == HttpStatusCode.OK ? "other bytes" : LastError)}");
                }
            }
            catch (HttpRequestException)
            {
                // The node went down under the read (the scenario stops nodes): the client tries another, as any would.
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }
        }
    }

    private async Task<bool> IsRemovedAsync(int node) =>
        await cluster.TryHealthAsync(node) is { } health && health.Body.GetProperty("status").GetString() == "removed";

    private async Task<(HttpStatusCode Status, byte[]? Hash)> GetHashAsync(int node, string key, CancellationToken token)
    {
        using HttpResponseMessage response = await s_http.GetAsync($"http://{cluster.NodeId(node)}/{bucket}/{key}", HttpCompletionOption.ResponseHeadersRead, token);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            LastError = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(token)}";
            return (response.StatusCode, null);
        }

        await using Stream body = await response.Content.ReadAsStreamAsync(token);
        return (HttpStatusCode.OK, await SHA256.HashDataAsync(body, token));
    }

    private async Task<bool> PutAsync(int node, string key, byte[] data, CancellationToken token)
    {
        using HttpResponseMessage response = await s_http.PutAsync($"http://{cluster.NodeId(node)}/{bucket}/{key}", new ByteArrayContent(data), token);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return false;
        }

        _acknowledged[key] = SHA256.HashData(data);
        return true;
    }

    private async Task<bool> PutMultipartAsync(int node, string key, byte[] data, CancellationToken token)
    {
        string url = $"http://{cluster.NodeId(node)}/{bucket}/{key}";
        using HttpResponseMessage created = await s_http.PostAsync($"{url}?uploads", null, token);
        if (!created.IsSuccessStatusCode)
        {
            return false;
        }

        string uploadId = XDocument.Parse(await created.Content.ReadAsStringAsync(token)).Descendants().First(e => e.Name.LocalName == "UploadId").Value;
        var parts = new StringBuilder("<CompleteMultipartUpload>");
        int[] cuts = [0, 5 << 20, data.Length];
        for (int part = 1; part <= 2; part++)
        {
            using HttpResponseMessage uploaded = await s_http.PutAsync($"{url}?partNumber={part}&uploadId={Uri.EscapeDataString(uploadId)}", new ByteArrayContent(data[cuts[part - 1]..cuts[part]]), token);
            if (!uploaded.IsSuccessStatusCode)
            {
                return false;
            }

            parts.Append($"<Part><PartNumber>{part}</PartNumber><ETag>{uploaded.Headers.ETag}</ETag></Part>");
        }

        parts.Append("</CompleteMultipartUpload>");
        using HttpResponseMessage completed = await s_http.PostAsync($"{url}?uploadId={Uri.EscapeDataString(uploadId)}", new StringContent(parts.ToString()), token);
        if (!completed.IsSuccessStatusCode || (await completed.Content.ReadAsStringAsync(token)).Contains("<Error>", StringComparison.Ordinal))
        {
            return false;
        }

        _acknowledged[key] = SHA256.HashData(data);
        return true;
    }

    private static byte[] Bytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
