// Owns: the dashboard at /ui: its static files (embedded in the binary, served with a strict content
// security policy: nothing loads from anywhere but this node) and /ui/cluster.json, every member's own
// /health gathered by this node (the page cannot ask the other members itself: they are other origins)
// plus this node's recent events. Read-only and open like /health; changes go through /admin/* with a key.
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using O3Storage.Cluster.Health;
using O3Storage.Node.Diagnostics;
using O3Storage.Node.Hosting;
using O3Storage.Node.Transport;

namespace O3Storage.Node.Api;

internal sealed class UiEndpoints(NodeContext node, PeerClient peers, TimeProvider time)
{
    /// <summary>How long the page waits for a member's /health: a down member must not stall the picture.</summary>
    public static readonly TimeSpan MemberTimeout = TimeSpan.FromSeconds(1);

    private const string ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private sealed record Asset(string ContentType, byte[] Body, string ETag);

    private static readonly Dictionary<string, Asset> s_assets = LoadAssets();

    public void Map(IEndpointRouteBuilder routes)
    {
        // Routing matches "/ui/" to this template too.
        routes.MapGet("/ui", (RequestDelegate)(http => ServeAsync(http, "index.html")));
        routes.MapGet("/ui/cluster.json", (RequestDelegate)ClusterAsync);
        routes.MapGet("/ui/{file}", (RequestDelegate)(http => ServeAsync(http, http.Request.RouteValues["file"] as string ?? string.Empty)));
    }

    private static Dictionary<string, Asset> LoadAssets()
    {
        Assembly assembly = typeof(UiEndpoints).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (string name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("ui/", StringComparison.Ordinal)))
        {
            using Stream stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            byte[] body = copy.ToArray();
            string type = Path.GetExtension(name) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                _ => "application/octet-stream",
            };
            assets[name["ui/".Length..]] = new Asset(type, body, $"\"{Convert.ToHexString(SHA256.HashData(body))[..16]}\"");
        }

        return assets;
    }

    private static Task ServeAsync(HttpContext http, string file)
    {
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        http.Response.Headers["Referrer-Policy"] = "no-referrer";
        if (!s_assets.TryGetValue(file, out Asset? asset))
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            http.Response.ContentType = "text/plain; charset=utf-8";
            return http.Response.WriteAsync($"no such dashboard file: {file}\n", http.RequestAborted);
        }

        // Revalidated each time (they change with the binary), answered 304 while unchanged.
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers.ETag = asset.ETag;
        if (http.Request.Headers.IfNoneMatch == asset.ETag)
        {
            http.Response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        http.Response.ContentType = asset.ContentType;
        http.Response.ContentLength = asset.Body.Length;
        return http.Response.Body.WriteAsync(asset.Body, http.RequestAborted).AsTask();
    }

    /// <summary>{node_id, generated_at, members: [{id, health}], events: [...]}: health is the member's /health body, or null.</summary>
    private async Task ClusterAsync(HttpContext http)
    {
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        byte[] body = await GatherAsync(http.RequestAborted).ConfigureAwait(false);
        http.Response.ContentType = "application/json";
        await http.Response.Body.WriteAsync(body, http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// The gathered picture, at most one gathering at a time and reused for a second: however many pages
    /// poll (or strangers call), this node asks each member at most about once a second.
    /// </summary>
    private async Task<byte[]> GatherAsync(CancellationToken token)
    {
        if (_last is { } fresh && time.GetUtcNow() - fresh.At < s_reuse)
        {
            return fresh.Body;
        }

        await _gathering.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (_last is { } meanwhile && time.GetUtcNow() - meanwhile.At < s_reuse)
            {
                return meanwhile.Body;
            }

            byte[] body = await GatherNowAsync().ConfigureAwait(false);
            _last = (time.GetUtcNow(), body);
            return body;
        }
        finally
        {
            _gathering.Release();
        }
    }

    private static readonly TimeSpan s_reuse = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _gathering = new(1, 1);
    private (DateTimeOffset At, byte[] Body)? _last;

    private async Task<byte[]> GatherNowAsync()
    {
        string[] ids = [.. node.Raft.Metadata.Members.Keys.Order(StringComparer.Ordinal)];
        if (ids.Length == 0)
        {
            ids = [node.NodeId];
        }

        // Not the caller's token: others may be waiting on this gathering; each member has MemberTimeout.
        string?[] reports = await Task.WhenAll(ids.Select(id => id == node.NodeId ? Task.FromResult<string?>(OwnHealth()) : peers.TryHealthJsonAsync(id, MemberTimeout, CancellationToken.None))).ConfigureAwait(false);
        using var body = new MemoryStream();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteString("node_id", node.NodeId);
            json.WriteString("generated_at", time.GetUtcNow());
            json.WriteStartArray("members");
            for (int i = 0; i < ids.Length; i++)
            {
                json.WriteStartObject();
                json.WriteString("id", ids[i]);
                json.WritePropertyName("health");
                WriteReport(json, reports[i]);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("events");
            foreach (RecentEvent entry in node.Events.Newest())
            {
                json.WriteStartObject();
                json.WriteString("time", entry.Time);
                json.WriteString("level", entry.Level);
                json.WriteNumber("event_id", entry.EventId);
                json.WriteString("message", entry.Message);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return body.ToArray();
    }

    private string OwnHealth()
    {
        (HealthReport report, _) = HealthEvaluator.Evaluate(node.CaptureHealthInputs(), node.Peers, time.GetUtcNow());
        return JsonSerializer.Serialize(report, NodeEndpoints.HealthJson.HealthReport);
    }

    /// <summary>A member's report as it came, checked to be one JSON object; null when it did not answer or answered something else.</summary>
    private static void WriteReport(Utf8JsonWriter json, string? report)
    {
        if (report is not null)
        {
            try
            {
                using JsonDocument parsed = JsonDocument.Parse(report);
                if (parsed.RootElement.ValueKind == JsonValueKind.Object)
                {
                    parsed.RootElement.WriteTo(json);
                    return;
                }
            }
            catch (JsonException)
            {
            }
        }

        json.WriteNullValue();
    }
}
