// Owns: o3ctl's HTTP to the nodes. It asks the endpoints it was given for /health in order, takes the
// first that answers, and sends admin calls to the leader that node names (any node would pass them on,
// but the leader answers without the extra hop and says so when it is gone). Every call is bounded by
// the --timeout; an answer that is not 2xx becomes a CtlException with the node's own error and detail.
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using O3Storage.Ctl.Settings;

namespace O3Storage.Ctl.Api;

/// <summary>An admin call's answer: its status, its JSON text, and the node that gave it.</summary>
public sealed record AdminReply(HttpStatusCode Status, string Body, Uri Node);

public sealed class NodeApi : IDisposable
{
    private readonly CtlSettings _settings;
    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;

    public NodeApi(CtlSettings settings, TimeSpan timeout)
    {
        _settings = settings;
        _timeout = timeout;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(Math.Min(3, timeout.TotalSeconds)),

            // A restored object's user metadata may hold any text: sent as UTF-8, as the node reads headers (not refused as non-ASCII).
            RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8,
        };
        if (settings.CaCertificate is { } caPath)
        {
            X509Certificate2Collection authority = LoadAuthority(caPath);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusted(certificate, errors, authority);
        }

        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public CtlSettings Settings => _settings;

    /// <summary>The first endpoint that answers /health (any status: a degraded node still reports), with its report.</summary>
    /// <exception cref="CtlException">None answered (Unreachable).</exception>
    /// <param name="alsoTry">Nodes to try after the given endpoints (members a watch has already seen).</param>
    public async Task<(Uri Node, Health Health)> ConnectAsync(CancellationToken token, IEnumerable<Uri>? alsoTry = null)
    {
        var failures = new List<string>();
        foreach (Uri endpoint in _settings.Endpoints.Concat(alsoTry ?? []).Distinct())
        {
            try
            {
                return (endpoint, await HealthAsync(endpoint, token).ConfigureAwait(false));
            }
            catch (Exception e) when (IsUnanswered(e, token))
            {
                failures.Add($"{Authority(endpoint)}: {Describe(e)}");
            }
        }

        throw new CtlException(ExitCode.Unreachable, $"no node answered ({string.Join("; ", failures)})",
            $"give a reachable node with --endpoint or {CtlSettings.EndpointVariable} (several, comma-separated, are tried in order)");
    }

    /// <summary>The leader's /health report (what the cluster has committed), or the answering node's when the leader does not answer.</summary>
    public async Task<Health> LeaderHealthAsync(CancellationToken token)
    {
        (Uri answering, Health health) = await ConnectAsync(token).ConfigureAwait(false);
        return health.Cluster?.Leader is { } leader && leader != health.NodeId
            ? await TryHealthAsync(MemberUri(answering, leader), token).ConfigureAwait(false) ?? health
            : health;
    }

    /// <summary>A node's /health report.</summary>
    public async Task<Health> HealthAsync(Uri node, CancellationToken token)
    {
        using var deadline = Deadline(token);
        using HttpResponseMessage response = await _http.GetAsync(new Uri(node, "/health"), deadline.Token).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize(text, CtlJson.Default.Health) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new HttpRequestException($"/health answered {(int)response.StatusCode} without a health report ({e.Message})");
        }
    }

    /// <summary>A node's /health report, or null when it does not answer in time.</summary>
    public async Task<Health?> TryHealthAsync(Uri node, CancellationToken token)
    {
        try
        {
            return await HealthAsync(node, token).ConfigureAwait(false);
        }
        catch (Exception e) when (IsUnanswered(e, token))
        {
            return null;
        }
    }

    /// <summary>The base URL of the member <paramref name="nodeId"/> (its ip:port), with the scheme o3ctl was given.</summary>
    public static Uri MemberUri(Uri like, string nodeId) => CtlSettings.ParseEndpoint($"{like.Scheme}://{nodeId}");

    /// <summary>
    /// Makes an admin call on the leader (found through the first endpoint that answers), or on that node
    /// when the leader does not answer. A 2xx answer is returned; any other is thrown as a CtlException.
    /// </summary>
    public async Task<AdminReply> AdminAsync(HttpMethod method, string path, string? json, CancellationToken token)
    {
        (Uri answering, Health health) = await ConnectAsync(token).ConfigureAwait(false);
        Uri? leader = health.Cluster?.Leader is { } id ? MemberUri(answering, id) : null;
        AdminReply reply;
        try
        {
            reply = await SendAsync(leader ?? answering, method, path, json, token).ConfigureAwait(false);
        }
        catch (Exception e) when (leader is not null && leader != answering && IsUnanswered(e, token))
        {
            reply = await SendAsync(answering, method, path, json, token).ConfigureAwait(false);
        }

        return (int)reply.Status is >= 200 and < 300 ? reply : throw Failure(reply, method, path);
    }

    /// <summary>An admin call on <paramref name="node"/> itself (one every member serves, such as reading a snapshot); a non-2xx answer is thrown.</summary>
    public async Task<AdminReply> CallAsync(Uri node, HttpMethod method, string path, string? json, CancellationToken token)
    {
        AdminReply reply = await SendAsync(node, method, path, json, token).ConfigureAwait(false);
        return (int)reply.Status is >= 200 and < 300 ? reply : throw Failure(reply, method, path);
    }

    /// <summary>
    /// A call on <paramref name="node"/> whose body is streamed: the response once its headers are in (the
    /// caller reads and disposes it). Its headers come within --timeout, or, when the request carries a
    /// body of its own (sent before any answer), the call has the whole of <paramref name="token"/>. A
    /// non-2xx answer is thrown.
    /// </summary>
    public async Task<HttpResponseMessage> StreamAsync(Uri node, HttpRequestMessage request, CancellationToken token)
    {
        if (_settings.Key is { } key)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        HttpResponseMessage response;
        using (CancellationTokenSource deadline = request.Content is null ? Deadline(token) : CancellationTokenSource.CreateLinkedTokenSource(token))
        {
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (IsUnanswered(e, token))
            {
                throw new CtlException(ExitCode.Unreachable, $"{Authority(node)} did not answer {request.Method} {request.RequestUri?.AbsolutePath}: {Describe(e)}", "is the node up? o3ctl status shows the members");
            }
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            using var deadline = Deadline(token);
            string body = await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false);
            throw Failure(new AdminReply(response.StatusCode, body, node), request.Method, request.RequestUri?.AbsolutePath ?? string.Empty);
        }
    }

    private async Task<AdminReply> SendAsync(Uri node, HttpMethod method, string path, string? json, CancellationToken token)
    {
        using var deadline = Deadline(token);
        using var request = new HttpRequestMessage(method, new Uri(node, path));
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        if (_settings.Key is { } key)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        try
        {
            using HttpResponseMessage response = await _http.SendAsync(request, deadline.Token).ConfigureAwait(false);
            return new AdminReply(response.StatusCode, await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false), node);
        }
        catch (Exception e) when (IsUnanswered(e, token))
        {
            throw new CtlException(ExitCode.Unreachable, $"{Authority(node)} did not answer {method} {path}: {Describe(e)}", "is the node up? o3ctl status shows the members");
        }
    }

    /// <summary>The exception for a refused admin call: the node's error and detail, and the exit code its status means.</summary>
    public static CtlException Failure(AdminReply reply, HttpMethod method, string path)
    {
        AdminErrorBody? body = null;
        try
        {
            body = JsonSerializer.Deserialize(reply.Body, CtlJson.Default.AdminErrorBody);
        }
        catch (JsonException)
        {
        }

        string error = body?.Error ?? $"{Authority(reply.Node)} answered {(int)reply.Status} to {method} {path}";
        ExitCode code = reply.Status switch
        {
            HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge => ExitCode.Usage,
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => ExitCode.NotAuthorized,
            HttpStatusCode.ServiceUnavailable => ExitCode.Unreachable,
            // The node's router says "no admin call ..." for a path it does not have; 405 for a method it does not take there.
            HttpStatusCode.NotFound when body?.Error is null || error.StartsWith("no admin call", StringComparison.Ordinal) => ExitCode.NotSupported,
            HttpStatusCode.MethodNotAllowed => ExitCode.NotSupported,
            _ => ExitCode.Refused,
        };
        string? detail = code switch
        {
            ExitCode.NotSupported => $"{Authority(reply.Node)} runs a release without {method} {path}; update the cluster (docs/operations.md, rolling updates)",
            ExitCode.NotAuthorized when body?.Detail is { } why => $"{why}; give one with --key, {CtlSettings.KeyVariable} or the config file",
            _ => body?.Detail,
        };
        return new CtlException(code, error, detail);
    }

    public static string Authority(Uri node) => node.IsDefaultPort ? node.Host : $"{node.Host}:{node.Port}";

    private CancellationTokenSource Deadline(CancellationToken token)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
        deadline.CancelAfter(_timeout);
        return deadline;
    }

    private static bool IsUnanswered(Exception e, CancellationToken token) =>
        !token.IsCancellationRequested && e is HttpRequestException or OperationCanceledException or IOException;

    private static string Describe(Exception e) => e switch
    {
        OperationCanceledException => "no answer in time",
        HttpRequestException { InnerException: System.Net.Sockets.SocketException socket } => socket.SocketErrorCode switch
        {
            System.Net.Sockets.SocketError.ConnectionRefused => "connection refused",
            System.Net.Sockets.SocketError.TimedOut => "no answer in time",
            _ => socket.Message,
        },
        HttpRequestException { InnerException: System.Security.Authentication.AuthenticationException } =>
            $"TLS: the node's certificate is not trusted (give the cluster CA with --ca-cert or {CtlSettings.CaVariable})",
        _ => e.Message,
    };

    private static X509Certificate2Collection LoadAuthority(string path)
    {
        try
        {
            var certificates = new X509Certificate2Collection();
            certificates.ImportFromPemFile(path);
            return certificates.Count > 0 ? certificates : throw new CtlException(ExitCode.Usage, $"{path} holds no certificate", "give the cluster CA's PEM file (ca-cert.pem)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new CtlException(ExitCode.Usage, $"cannot read the CA certificate {path}: {e.Message}", "give the cluster CA's PEM file (ca-cert.pem)");
        }
    }

    /// <summary>A node's certificate is trusted when it chains to the given CA and names the address called.</summary>
    private static bool Trusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection authority)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    public void Dispose() => _http.Dispose();
}
