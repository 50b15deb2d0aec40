using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using O3Storage.Node.Hosting;

namespace O3Storage.Node.Tests.Hosting;

public sealed class ApiWebApplicationTests
{
    [Fact]
    public async Task RequestBodies_AreReadInto64KiBBlocks_OfTheNodesOwnPool()
    {
        await using WebApplication app = ApiWebApplication.Build(new IPEndPoint(IPAddress.Loopback, 0), NullLoggerFactory.Instance, tls: null);
        int largestRead = 0;
        app.MapPut("/body", async (HttpContext http) =>
        {
            // Each read hands out what the transport received into one block, at most.
            while (true)
            {
                System.IO.Pipelines.ReadResult read = await http.Request.BodyReader.ReadAsync();
                foreach (ReadOnlyMemory<byte> segment in read.Buffer)
                {
                    largestRead = Math.Max(largestRead, segment.Length);
                }

                http.Request.BodyReader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }

            return Results.NoContent();
        });
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        using var client = new HttpClient();
        using HttpResponseMessage response = await client.PutAsync($"{address}/body", new ByteArrayContent(new byte[4 << 20]));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var factory = Assert.IsType<LargeBlockMemoryPoolFactory>(app.Services.GetRequiredService<IMemoryPoolFactory<byte>>());
        Assert.True(factory.Pool.Rented > 0, "Kestrel never rented from the node's pool");
        // Kestrel's own 4 KiB blocks would cap every segment at 4096 bytes.
        Assert.True(largestRead > 4096, $"the largest segment read was {largestRead} bytes");
        await app.StopAsync();
    }
}
