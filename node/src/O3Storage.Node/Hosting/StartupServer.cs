// Owns: the API port while the node does not serve yet (discovering its peers, joining, opening its
// store): GET /health says what it waits for, with a 503, and /metrics the same as gauges (200, so
// Prometheus keeps them); every other request gets a 503 (an S3 error for S3 clients) instead of a
// refused connection. Stopped just before the serving
// endpoints take the port.
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using O3Storage.Cluster.Health;
using O3Storage.Node.Api;
using O3Storage.Node.S3;
using O3Storage.Node.Transport;

namespace O3Storage.Node.Hosting;

internal sealed class StartupServer : IAsyncDisposable
{
    /// <summary>What clients are told to wait before asking again.</summary>
    private const string RetryAfterSeconds = "5";

    private readonly WebApplication _app;
    private readonly IPEndPoint _endPoint;
    private readonly Func<HealthReport> _report;
    private bool _started;
    private bool _disposed;

    /// <summary>Builds the server for <paramref name="endPoint"/> (nothing is bound until <see cref="StartAsync"/>); it answers from <paramref name="report"/>, evaluated per request.</summary>
    public StartupServer(IPEndPoint endPoint, Func<HealthReport> report, ILoggerFactory loggerFactory, Transport.OptionalTls? tls = null)
    {
        _endPoint = endPoint;
        _report = report;
        _app = ApiWebApplication.Build(endPoint, loggerFactory, tls);
        _app.Run(AnswerAsync);
    }

    public async Task StartAsync(CancellationToken token)
    {
        try
        {
            await _app.StartAsync(token).ConfigureAwait(false);
            _started = true;
        }
        catch (IOException e)
        {
            throw new StartupException($"--port: cannot listen on {_endPoint}: {e.Message}");
        }
    }

    /// <summary>Closes the port (in-flight answers finish first, briefly); safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_started)
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await _app.StopAsync(grace.Token).ConfigureAwait(false);
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private Task AnswerAsync(HttpContext http)
    {
        HealthReport report = _report();
        string path = http.Request.Path.Value ?? "/";
        http.Response.Headers.CacheControl = "no-store";
        bool get = HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method);
        if (get && path == "/metrics")
        {
            // 200 as when serving: Prometheus drops the samples of a failed scrape, and these say why the node is not up.
            http.Response.ContentType = MetricsText.ContentType;
            return http.Response.WriteAsync(MetricsText.Write(report), http.RequestAborted);
        }

        http.Response.StatusCode = (int)HttpStatusCode.ServiceUnavailable;
        http.Response.Headers.RetryAfter = RetryAfterSeconds;
        if (get && path == "/health")
        {
            return http.Response.WriteAsJsonAsync(report, NodeEndpoints.HealthJson.HealthReport, cancellationToken: http.RequestAborted);
        }

        string why = report.Startup is { } startup
            ? $"this node does not serve yet ({startup.Phase}: {startup.Detail}); retry later"
            : "this node does not serve yet; retry later";
        if (path.StartsWith("/internal/", StringComparison.Ordinal) || path.StartsWith("/admin/", StringComparison.Ordinal))
        {
            return http.Response.WriteAsJsonAsync(new ErrorResponse(why), InternalJsonContext.Default.ErrorResponse, cancellationToken: http.RequestAborted);
        }

        return S3Endpoints.WriteErrorAsync(http, new S3Error("ServiceUnavailable", 503, why), path, S3Endpoints.StartRequest(http));
    }
}
