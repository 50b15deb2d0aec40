// Owns: the JSON of /admin/*: every request field the handlers read and every answer they give,
// source-generated (AOT), snake_case as the guide writes it. Field names are a contract: add, never rename.
using System.Text.Json.Serialization;
using O3Storage.Cluster.Lifecycle;

namespace O3Storage.Node.Admin;

/// <summary>Every admin error: what went wrong, and what to do about it.</summary>
public sealed record AdminError(string Error, string? Detail);

/// <summary>The answer to <c>POST /admin/remove-node</c>: <paramref name="State"/> is <c>removed</c> or <c>draining</c>.</summary>
/// <param name="Objects">Objects that listed the node as a replica: rebuilt elsewhere (removed) or moved away (draining).</param>
public sealed record RemoveNodeResponse(string NodeId, string State, bool WasUp, long Objects, IReadOnlyList<string> Members, string Detail);

/// <summary>The answer to <c>POST /admin/maintenance</c>: the mode now in force cluster-wide.</summary>
public sealed record MaintenanceResponse(bool Enabled, string? Reason, DateTimeOffset? Since, bool WriteEnabled);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(AdminError))]
[JsonSerializable(typeof(RemoveNodeResponse))]
[JsonSerializable(typeof(MaintenanceResponse))]
[JsonSerializable(typeof(RebalanceStatus))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;
