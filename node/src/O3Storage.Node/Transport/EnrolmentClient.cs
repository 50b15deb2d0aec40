// Owns: the joining side of enrolment: ask a member for a challenge, prove the join token bound to it and
// to the certificate the member's TLS connection showed, and open the sealed cluster CA. The member's
// certificate cannot be checked yet (the CA is what is being fetched): the seal is what proves the answer
// came from a holder of the token. Every call is bounded.
using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography;
using System.Text.Json;
using O3Storage.Provisioning;

namespace O3Storage.Node.Transport;

internal static class EnrolmentClient
{
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    /// <summary>What a member answered.</summary>
    public abstract record Outcome
    {
        private Outcome()
        {
        }

        /// <summary>The cluster CA, as the member sealed it.</summary>
        public sealed record Enrolled(EnrolledAuthority Authority) : Outcome;

        /// <summary>The member has no CA to give (a cluster on the operator's certificates, or from before cluster CAs).</summary>
        public sealed record NoAuthority(string Reason) : Outcome;

        /// <summary>The member refused, or its answer did not open with this node's token; the reason says which.</summary>
        public sealed record Refused(string Reason) : Outcome;
    }

    public static async Task<Outcome> EnrollAsync(IPAddress? localAddress, string peer, string nodeId, Guid uuid, ClusterSecret secret, CancellationToken token)
    {
        byte[]? memberCertificate = null;
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(2),
            UseProxy = false,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = Cluster.Security.ClusterTrust.Protocols,
                CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    memberCertificate = certificate is null ? null : SHA256.HashData(certificate.GetRawCertData());
                    return certificate is not null;
                },
            },
            ConnectCallback = PeerClient.ConnectFrom(localAddress),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(CallTimeout);

        using HttpResponseMessage challengeResponse = await http.PostAsync($"https://{peer}/internal/enroll/challenge", content: null, timeout.Token).ConfigureAwait(false);
        if (await ErrorOf(challengeResponse, peer, timeout.Token).ConfigureAwait(false) is { } challengeError)
        {
            return challengeError;
        }

        EnrollChallenge? challenge = await Read(challengeResponse, InternalJsonContext.Default.EnrollChallenge, timeout.Token).ConfigureAwait(false);
        if (challenge?.Challenge is null || memberCertificate is null)
        {
            return new Outcome.Refused($"{peer} answered its enrolment challenge with something else");
        }

        // Bound to the certificate this connection showed: the same pooled connection carries the request.
        string proof = secret.EnrollProof(challenge.Challenge, nodeId, uuid, memberCertificate);
        using HttpResponseMessage response = await http.PostAsJsonAsync($"https://{peer}/internal/enroll", new EnrollRequest(nodeId, uuid, challenge.Challenge, proof), InternalJsonContext.Default.EnrollRequest, timeout.Token).ConfigureAwait(false);
        if (await ErrorOf(response, peer, timeout.Token).ConfigureAwait(false) is { } error)
        {
            return error;
        }

        EnrollResponse? answer = await Read(response, InternalJsonContext.Default.EnrollResponse, timeout.Token).ConfigureAwait(false);
        byte[]? opened = answer?.Sealed is { } sealedText ? secret.Open(sealedText, proof) : null;
        EnrolledAuthority? authority = null;
        try
        {
            authority = opened is null ? null : JsonSerializer.Deserialize(opened, InternalJsonContext.Default.EnrolledAuthority);
        }
        catch (JsonException)
        {
        }

        return authority is { Certificate: not null, Key: not null }
            ? new Outcome.Enrolled(authority)
            : new Outcome.Refused($"{peer}'s answer is not sealed with this node's join token: it is not a member of the cluster whose token this node holds (or something between them changed it)");
    }

    private static async Task<Outcome?> ErrorOf(HttpResponseMessage response, string peer, CancellationToken token)
    {
        if (response.IsSuccessStatusCode)
        {
            return null;
        }

        string message = (await Read(response, InternalJsonContext.Default.ErrorResponse, token).ConfigureAwait(false))?.Error ?? $"{peer} answered {(int)response.StatusCode}";
        return response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound
            ? new Outcome.NoAuthority(response.StatusCode == HttpStatusCode.NotFound ? $"{peer} runs a release without enrolment" : message)
            : new Outcome.Refused(message);
    }

    private static async Task<T?> Read<T>(HttpResponseMessage response, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken token)
        where T : class
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(type, token).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
