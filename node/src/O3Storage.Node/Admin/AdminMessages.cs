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

/// <summary>One snapshot: when and at which index it was taken, what it holds, and <paramref name="PinnedBytes"/> its blobs keep that the namespace no longer refers to.</summary>
public sealed record SnapshotInfo(string Name, DateTimeOffset CreatedAt, long Index, int Buckets, long Objects, long Bytes, long PinnedBytes);

/// <summary>The answer to creating (<c>created</c>, <c>exists</c>) or deleting (<c>deleted</c>) a snapshot.</summary>
public sealed record SnapshotResponse(string Name, string Status, SnapshotInfo Snapshot, string Detail);

/// <summary>The answer to <c>GET /admin/snapshots</c>: every snapshot, oldest first, what they pin together, and the last restore.</summary>
public sealed record SnapshotListResponse(IReadOnlyList<SnapshotInfo> Snapshots, long PinnedBytes, long PinnedBlobs, RestoreInfo? LastRestore);

/// <summary>A restore that happened: of which snapshot, at which index, when.</summary>
public sealed record RestoreInfo(string Snapshot, long Index, DateTimeOffset RestoredAt);

/// <summary>The answer to <c>POST /admin/restore</c>: <paramref name="Status"/> is <c>restored</c> or <c>already_restored</c>.</summary>
public sealed record RestoreResponse(string Snapshot, string Status, long Index, DateTimeOffset RestoredAt, long Objects, long Bytes, string Detail);

/// <summary>One key the cluster holds (never its secret), with where it comes from: members' node ids (their api-keys.txt) or <c>first-admin-key</c>.</summary>
public sealed record KeyInfo(string AccessKeyId, string Role, IReadOnlyList<string> Sources);

/// <summary>The answer to <c>GET /admin/keys</c>: every key the cluster holds, and the state of its first admin key (<c>none</c>, <c>active</c>, <c>retired</c>).</summary>
public sealed record KeyListResponse(IReadOnlyList<KeyInfo> Keys, string FirstAdminKey, string Detail);

/// <summary>The answer to <c>DELETE /admin/keys/ID</c>: <paramref name="Status"/> is <c>retired</c>.</summary>
public sealed record KeyRetiredResponse(string AccessKeyId, string Status, string Detail);

/// <summary>The answer to <c>GET /admin/snapshots/NAME</c>: the snapshot and its buckets.</summary>
public sealed record SnapshotContents(SnapshotInfo Snapshot, IReadOnlyList<SnapshotBucket> Buckets);

/// <summary>One bucket of a snapshot: when it was made, and its objects and bytes as of the snapshot.</summary>
public sealed record SnapshotBucket(string Name, DateTimeOffset CreatedAt, long Objects, long Bytes);

/// <summary>One object of a snapshot, with what a restore needs to make it again as it was.</summary>
public sealed record SnapshotObject(string Key, long Size, string ETag, string ContentType, DateTimeOffset LastModified, long LastModifiedMs, IReadOnlyDictionary<string, string> UserMetadata);

/// <summary>The answer to <c>GET /admin/snapshots/NAME/objects?bucket=B&amp;after=K</c>: a page in key order; <paramref name="NextAfter"/> is the next page's <c>after</c>.</summary>
public sealed record SnapshotObjectPage(string Snapshot, string Bucket, IReadOnlyList<SnapshotObject> Objects, bool IsTruncated, string? NextAfter);

/// <summary>The answer to <c>POST /admin/import/bucket</c>: <paramref name="Status"/> is <c>created</c> or <c>exists</c> (with the objects it holds).</summary>
public sealed record ImportBucketResponse(string Name, string Status, DateTimeOffset CreatedAt, long Objects);

/// <summary>The answer to <c>PUT /admin/import/object</c>: <paramref name="Status"/> is <c>imported</c>, or <c>exists</c> when the same object (size and ETag) was there.</summary>
public sealed record ImportObjectResponse(string Bucket, string Key, string Status, long Size, string ETag, string? Sha256, IReadOnlyList<string> Replicas);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(AdminError))]
[JsonSerializable(typeof(RemoveNodeResponse))]
[JsonSerializable(typeof(MaintenanceResponse))]
[JsonSerializable(typeof(RebalanceStatus))]
[JsonSerializable(typeof(SnapshotResponse))]
[JsonSerializable(typeof(SnapshotListResponse))]
[JsonSerializable(typeof(RestoreResponse))]
[JsonSerializable(typeof(KeyListResponse))]
[JsonSerializable(typeof(KeyRetiredResponse))]
[JsonSerializable(typeof(SnapshotContents))]
[JsonSerializable(typeof(SnapshotObjectPage))]
[JsonSerializable(typeof(ImportBucketResponse))]
[JsonSerializable(typeof(ImportObjectResponse))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;
