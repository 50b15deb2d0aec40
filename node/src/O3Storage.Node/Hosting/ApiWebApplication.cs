// Owns: the one way this node builds a Kestrel app on its API port (slim builder, no host logging or
// lifetime of its own, no Server header, bounded headers), for the starting and the serving endpoints.
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace O3Storage.Node.Hosting;

internal static class ApiWebApplication
{
    public static WebApplication Build(IPEndPoint endPoint, ILoggerFactory loggerFactory, Action<KestrelServerLimits>? limits = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton<IHostLifetime, NullHostLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(endPoint);
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            limits?.Invoke(kestrel.Limits);
        });
        return builder.Build();
    }
}
