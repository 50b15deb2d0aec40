using System.Text.Json.Serialization;

namespace O3Storage.Node.Transport;

/// <summary>Answer to <c>GET /internal/ping</c>: who answers, and what it thinks of the cluster.</summary>
/// <param name="CallerRemoved">The caller (named in the query) is a node this cluster removed: it must stop serving.</param>
/// <param name="Incarnation">Which bootstrap of the cluster this node belongs to (null from builds before it was sent, or before the cluster is initialized).</param>
/// <param name="CallerIsMember">Whether the caller (named in the query, with its uuid) is a member of this node's cluster; null when the caller gave no name.</param>
/// <param name="Version">The build of the node that answers, and the metadata level it reads (null: a build before levels, level 1).</param>
/// <param name="Certificates">How the cluster's nodes get certificates: <see cref="ClusterCa"/> (a joining node enrols), <see cref="OperatorCertificates"/> (the guide's), or null (none: a cluster from before them).</param>
public sealed record PingResponse(string NodeId, string Role, long Term, string? Leader, string? ClusterId, bool CallerRemoved = false, Guid? Incarnation = null, bool? CallerIsMember = null, string? Version = null, int? MetadataLevel = null, string? Certificates = null)
{
    public const string ClusterCa = "cluster-ca";
    public const string OperatorCertificates = "operator";

    /// <summary>The role a node gives while it starts a new cluster from its data (it no longer speaks for its old one).</summary>
    public const string RefoundingRole = "refounding";
}

/// <summary>Body of <c>POST /internal/join</c>: a new node asks to be added.</summary>
/// <param name="TokenProof">Proof of the join token (<c>JoinToken.JoinProof</c>) when the node has an o3storage.txt; a member with a token refuses a join without it.</param>
/// <param name="MetadataLevel">The metadata level the joining build reads (null: a build before levels, level 1); below the cluster's, the join is refused.</param>
public sealed record JoinRequest(string NodeId, string ClusterEndpoint, Guid Uuid, string? TokenProof = null, int? MetadataLevel = null);

public sealed record JoinResponse(string? ClusterId, string Leader);

/// <summary>Answer to <c>POST /internal/enroll/challenge</c>: a one-use value the enrolment's proof must include.</summary>
public sealed record EnrollChallenge(string Challenge);

/// <summary>Body of <c>POST /internal/enroll</c>: a node proves the join token (<c>ClusterSecret.EnrollProof</c>) to get the cluster CA.</summary>
/// <param name="Uuid">The node's identity when it has one already (a join resumed), else empty: bound into the proof either way.</param>
public sealed record EnrollRequest(string NodeId, Guid Uuid, string Challenge, string Proof);

/// <summary>Answer to <c>POST /internal/enroll</c>: the cluster CA (<see cref="EnrolledAuthority"/>, JSON), sealed with the join token, bound to the request's proof.</summary>
public sealed record EnrollResponse(string Sealed);

/// <summary>What an enrolment seals: the cluster CA's certificate and key, PEM.</summary>
public sealed record EnrolledAuthority(string Certificate, string Key);

public sealed record ErrorResponse(string Error);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(PingResponse))]
[JsonSerializable(typeof(JoinRequest))]
[JsonSerializable(typeof(JoinResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(EnrollChallenge))]
[JsonSerializable(typeof(EnrollRequest))]
[JsonSerializable(typeof(EnrollResponse))]
[JsonSerializable(typeof(EnrolledAuthority))]
internal sealed partial class InternalJsonContext : JsonSerializerContext;
