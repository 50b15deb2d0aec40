// Owns: the one way this node builds a Kestrel app on its API port (slim builder, no host logging or
// lifetime of its own, no Server header, bounded headers, 64 KiB socket buffers), for the starting and
// the serving endpoints.
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace O3Storage.Node.Hosting;

internal static class ApiWebApplication
{
    /// <param name="tls">TLS beside plain HTTP on the port, with the cluster's certificate; null: plain only.</param>
    public static WebApplication Build(IPEndPoint endPoint, ILoggerFactory loggerFactory, Transport.OptionalTls? tls, Action<KestrelServerLimits>? limits = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton<IHostLifetime, NullHostLifetime>();
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>>(new LargeBlockMemoryPoolFactory()); // after Kestrel's own: this one wins
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(endPoint, listen =>
            {
                if (tls is not null)
                {
                    listen.Use(tls.Wrap);
                }
            });
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            limits?.Invoke(kestrel.Limits);
        });
        return builder.Build();
    }
}
