using System.Net;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>Input a stranger on the network may send, each answered with a clear 4xx and nothing changed or held.</summary>
public sealed class HostileInputTests(ITestOutputHelper output)
{
    private const int Subnet = 78;

    [Fact]
    public async Task AChunkedJoinBodyPastTheLimit_AndControlCharactersInResponseOverrides_AreClear4xx()
    {
        using TestCluster cluster = await TestCluster.StartAsync(Subnet, 1, output);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        string node = $"http://{cluster.NodeId(1)}";

        // A chunked body has no Content-Length to check first: it is read up to the limit, no further.
        using (HttpResponseMessage refused = await http.PostAsync($"{node}/internal/join", new ChunkedContent(1 << 20)))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
            Assert.Contains("join request larger than 4096 bytes", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // response-content-* become response headers: CR, LF or other control characters are refused (they were a 503).
        Assert.Equal(HttpStatusCode.OK, (await http.PutAsync($"{node}/hostile", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.PutAsync($"{node}/hostile/object", new ByteArrayContent([1, 2, 3]))).StatusCode);
        foreach (string query in new[] { "response-content-type=text%2Fplain%0D%0AX-Injected%3A%201", "response-content-disposition=a%0Ab", "response-cache-control=%00", "response-content-language=%E2%82%AC" })
        {
            using HttpResponseMessage bad = await http.GetAsync($"{node}/hostile/object?{query}");
            string body = await bad.Content.ReadAsStringAsync();
            Assert.True(bad.StatusCode == HttpStatusCode.BadRequest, $"{query}: {(int)bad.StatusCode} {body}");
            Assert.Contains("<Code>InvalidArgument</Code>", body, StringComparison.Ordinal);
            Assert.False(bad.Headers.Contains("X-Injected"));
        }

        using HttpResponseMessage good = await http.GetAsync($"{node}/hostile/object?response-content-type=text%2Fplain&response-content-language=en&response-expires=Thu%2C%2001%20Dec%201994%2016%3A00%3A00%20GMT&response-content-encoding=identity");
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        Assert.Equal("text/plain", good.Content.Headers.ContentType?.ToString());
        Assert.Equal("en", Assert.Single(good.Content.Headers.ContentLanguage));
        Assert.Equal("identity", Assert.Single(good.Content.Headers.ContentEncoding));
        Assert.Equal([1, 2, 3], await good.Content.ReadAsByteArrayAsync());
    }

    /// <summary>A body of <paramref name="length"/> bytes sent chunked: its length is not known up front.</summary>
    private sealed class ChunkedContent(int length) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            byte[] block = new byte[16 * 1024];
            Array.Fill(block, (byte)'{');
            for (int sent = 0; sent < length; sent += block.Length)
            {
                await stream.WriteAsync(block);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
