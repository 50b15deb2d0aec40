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

    /// <summary>The pause before an enrolment that could not reach its member is tried again (within the join deadline).</summary>
    public static readonly TimeSpan RetryPause = TimeSpan.FromSeconds(1);

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

    /// <summary>Enrolment could not reach its member before the deadline.</summary>
    public sealed class UnreachableException(int attempts, string lastFailure) : Exception($"{attempts} attempts, the last: {lastFailure}")
    {
        public int Attempts { get; } = attempts;

        public string LastFailure { get; } = lastFailure;
    }

    /// <summary>
    /// Calls <paramref name="attempt"/> until a member answers: one that answered a ping may still be
    /// slow to enrol (a board that has just bootstrapped is busy, under emulation for seconds). A call
    /// that could not reach it (or timed out) is made again after <see cref="RetryPause"/> until
    /// <paramref name="deadline"/> ends (then <see cref="UnreachableException"/>); an answer, even a
    /// refusal, is final.
    /// </summary>
    public static async Task<Outcome> UntilAnsweredAsync(Func<CancellationToken, Task<Outcome>> attempt, Action<string> failed, TimeProvider time, CancellationToken deadline)
    {
        for (int attempts = 1; ; attempts++)
        {
            string failure;
            try
            {
                return await attempt(deadline).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                failure = PeerClient.Describe(e);
            }

            failed(failure);
            try
            {
                await Task.Delay(RetryPause, time, deadline).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new UnreachableException(attempts, failure);
            }
        }
    }

    public static async Task<Outcome> EnrollAsync(IPAddress? localAddress, string peer, string nodeId, Guid uuid, ClusterSecret secret, CancellationToken token)
    {
        byte[]? memberCertificate = null;
        using var http = new HttpClient(new SocketsHttpHandler
        {
            // Connecting includes the TLS handshake: a member that has just bootstrapped on a small or
            // emulated board takes seconds for it.
            ConnectTimeout = TimeSpan.FromSeconds(5),
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
