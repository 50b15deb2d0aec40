// Owns: enrolment, the first half of a join in a cluster with its own CA: a node that proves the join token
// gets the cluster CA, sealed with the token, and issues itself a certificate; the join proper (/internal/join)
// then needs that certificate like any other. A refused enrolment changes nothing; a replayed one finds its
// challenge used up; an eavesdropper sees only TLS, and a man in the middle sees a proof bound to its own
// certificate, which the member refuses, and a sealed answer it cannot open.
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using O3Storage.Cluster;
using O3Storage.Node.Auth;
using O3Storage.Node.Diagnostics;
using O3Storage.Node.Hosting;
using O3Storage.Node.Transport;

namespace O3Storage.Node.Api;

internal sealed class EnrollEndpoints(NodeContext node, EnrollChallenges challenges, ILogger logger)
{
    private const int BodyBytesMax = 2048;

    // The CA this member gives out, read once: a stranger asking for challenges does not cost disk reads.
    private readonly Lazy<(string Certificate, string Key)?> _authority = new(() => node.AuthorityDirectory is null ? null : ClusterAuthority.Read(node.AuthorityDirectory));

    public void Map(IEndpointRouteBuilder routes)
    {
        routes.MapPost("/internal/enroll/challenge", (RequestDelegate)ChallengeAsync);
        routes.MapPost("/internal/enroll", (RequestDelegate)EnrollAsync);
    }

    private Task ChallengeAsync(HttpContext http) =>
        Unavailable() is { } reason
            ? NodeEndpoints.WriteErrorAsync(http, HttpStatusCode.Conflict, reason)
            : http.Response.WriteAsJsonAsync(new EnrollChallenge(challenges.Issue()), InternalJsonContext.Default.EnrollChallenge, cancellationToken: http.RequestAborted);

    private async Task EnrollAsync(HttpContext http)
    {
        if (Unavailable() is { } unavailable)
        {
            await NodeEndpoints.WriteErrorAsync(http, HttpStatusCode.Conflict, unavailable).ConfigureAwait(false);
            return;
        }

        if (http.Features.Get<ITlsConnectionFeature>() is null)
        {
            await NodeEndpoints.WriteErrorAsync(http, HttpStatusCode.BadRequest, "enrolment goes over TLS (https://): the proof is bound to the certificate this member answers with").ConfigureAwait(false);
            return;
        }

        (bool read, EnrollRequest? request) = await NodeEndpoints.ReadJsonAsync(http, BodyBytesMax, InternalJsonContext.Default.EnrollRequest, "enrolment request").ConfigureAwait(false);
        if (!read)
        {
            return;
        }

        if (request is null || request.Challenge is null || request.Proof is null
            || !NodeAddress.TryParse(request.NodeId, 0, out NodeAddress address, out _) || address.Port == 0)
        {
            await NodeEndpoints.WriteErrorAsync(http, HttpStatusCode.BadRequest, "enrolment request needs node_id (ip:port), challenge and proof").ConfigureAwait(false);
            return;
        }

        // Used up whatever follows: one challenge, one try.
        bool fresh = challenges.Take(request.Challenge);
        byte[] ownHash = SHA256.HashData(node.Raft.Trust!.Own.RawData);
        if (!fresh || !node.Secret!.VerifiesEnroll(request.Challenge, request.NodeId, request.Uuid, ownHash, request.Proof))
        {
            string reason = !fresh
                ? $"{node.NodeId} refuses to enrol {request.NodeId}: the challenge is unknown, used or expired (ask for a new one)"
                : $"{node.NodeId} refuses to enrol {request.NodeId}: wrong join token (give the node this cluster's token: --join-token-file, or join_token in o3storage.txt)";
            NodeEndpoints.LogRefusal(node, logger, http, request.NodeId, reason);
            await NodeEndpoints.WriteErrorAsync(http, HttpStatusCode.Forbidden, reason).ConfigureAwait(false);
            return;
        }

        (string certificate, string key) = _authority.Value!.Value;
        byte[] authority = JsonSerializer.SerializeToUtf8Bytes(new EnrolledAuthority(certificate, key), InternalJsonContext.Default.EnrolledAuthority);
        NodeLog.Enrolled(logger, request.NodeId);
        await http.Response.WriteAsJsonAsync(new EnrollResponse(node.Secret.Seal(authority, request.Proof)), InternalJsonContext.Default.EnrollResponse, cancellationToken: http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Why this member cannot enrol anyone, or null.</summary>
    private string? Unavailable() =>
        node.Raft.Trust is null ? $"{node.NodeId} has no cluster CA (its cluster was formed by a release before them, without certificates): join it without enrolment"
        : _authority.Value is null ? $"{node.NodeId}'s cluster uses certificates its operator made: put ca-cert.pem and the node's certificate and key in /opt/o3storage/certs (docs/security.md)"
        : node.Secret is null ? $"{node.NodeId} knows no join token to check an enrolment with"
        : null;
}
