using System.Net;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests.Harness;

/// <summary>Admin calls as curl -d makes them (the body labelled form data), their JSON answers checked and logged.</summary>
internal sealed class AdminCalls(ITestOutputHelper output)
{
    private static readonly HttpClient s_http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>Makes the call (with <paramref name="key"/> as a bearer token when given); its status and JSON body.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> CallAsync(HttpMethod method, string url, string? body, string? key = null, string? contentType = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType ?? "application/x-www-form-urlencoded");
        }

        if (key is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        using HttpResponseMessage response = await s_http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        output.WriteLine($"{method} {url} {body} -> {(int)response.StatusCode} {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using JsonDocument document = JsonDocument.Parse(text);
        return (response.StatusCode, document.RootElement.Clone());
    }

    /// <summary>The call is refused with <paramref name="expected"/> and a JSON error containing <paramref name="error"/>, with a detail.</summary>
    public async Task RefusedAsync(HttpStatusCode expected, string error, HttpMethod method, string url, string? body, string? key = null)
    {
        (HttpStatusCode status, JsonElement answer) = await CallAsync(method, url, body, key);
        Assert.Equal(expected, status);
        Assert.Contains(error, answer.GetProperty("error").GetString());
        Assert.True(answer.TryGetProperty("detail", out _));
    }
}
