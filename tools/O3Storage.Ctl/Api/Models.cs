// Owns: what o3ctl reads from the nodes' JSON. A tolerant reader: only the fields it shows, every one
// optional, unknown fields ignored, so one o3ctl works against members of different releases during a
// rolling update. Field names follow the node's snake_case contract (docs/operations.md).
using System.Text.Json;
using System.Text.Json.Serialization;

namespace O3Storage.Ctl.Api;

public sealed record Health(
    string? Status, string? NodeId, string? Version, double UptimeSeconds,
    ClusterPart? Cluster, StoragePart? Storage, HardwarePart? Hardware, StartupPart? Startup, AuthPart? Auth, string? Rebalance);

public sealed record ClusterPart(
    string? ClusterId, string? Role, string? Leader, long Term, int ActiveNodes, int TotalNodes, int QuorumSize,
    bool HasQuorum, bool WriteEnabled, long AppliedIndex, int MetadataLevel, IReadOnlyList<MemberPart>? Members, MaintenancePart? Maintenance);

public sealed record MemberPart(string Id, string? Role, bool Reachable, string? State, string? Version, bool Self);

public sealed record MaintenancePart(bool Enabled, string? Reason, DateTimeOffset? Since);

public sealed record StoragePart(long TotalObjects, long UsedSpaceBytes, long CapacityBytes, long FreeSpaceBytes, long UnderReplicatedObjects, ScrubPart? Scrub);

public sealed record ScrubPart(string? State, double PassProgress, long Passes);

public sealed record HardwarePart(string? Board, string? Led, double? TemperatureCelsius, string? TemperatureSource, double BackgroundWorkFactor);

public sealed record StartupPart(string? Phase, string? Detail);

public sealed record AuthPart(bool Enabled);

public sealed record AdminErrorBody(string? Error, string? Detail);

public sealed record RemoveNodeAnswer(string? NodeId, string? State, bool WasUp, long Objects, IReadOnlyList<string>? Members, string? Detail);

public sealed record MaintenanceAnswer(bool Enabled, string? Reason, DateTimeOffset? Since, bool WriteEnabled);

public sealed record RebalanceAnswer(
    string? State, string? Strategy, string? Trigger, string? Leader, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt,
    long ObjectsTotal, long ObjectsMoved, long BytesTotal, long BytesMoved, double Percent, double RateBytesPerSecond,
    double RateObjectsPerSecond, double? EtaSeconds, long UnderReplicatedObjects, long MisplacedObjects,
    IReadOnlyList<RebalanceNodePart>? Nodes, string? LastError);

public sealed record RebalanceNodePart(string? NodeId, long Objects, long Bytes, long TargetObjects, long TargetBytes);

public sealed record SnapshotPart(string? Name, DateTimeOffset CreatedAt, long Index, int Buckets, long Objects, long Bytes, long PinnedBytes);

public sealed record SnapshotAnswer(string? Name, string? Status, SnapshotPart? Snapshot, string? Detail);

public sealed record SnapshotListAnswer(IReadOnlyList<SnapshotPart>? Snapshots, long PinnedBytes, long PinnedBlobs, RestorePart? LastRestore);

public sealed record RestorePart(string? Snapshot, long Index, DateTimeOffset RestoredAt);

public sealed record RestoreAnswer(string? Snapshot, string? Status, long Index, DateTimeOffset RestoredAt, long Objects, long Bytes, string? Detail);

public sealed record KeyPart(string? AccessKeyId, string? Role, IReadOnlyList<string>? Sources);

public sealed record KeyListAnswer(IReadOnlyList<KeyPart>? Keys, string? FirstAdminKey, string? Detail);

public sealed record KeyRetiredAnswer(string? AccessKeyId, string? Status, string? Detail);

/// <summary>What <c>o3ctl status</c> shows, and prints with <c>--json</c>.</summary>
/// <param name="Health">One line: <c>healthy</c>, <c>degraded</c> or <c>unavailable</c>.</param>
public sealed record ClusterStatus(
    string Health, string Summary, string? ClusterId, string? Leader, long Term, int MembersUp, int MembersTotal, bool HasQuorum,
    bool WriteEnabled, MaintenancePart? Maintenance, string? Rebalance, IReadOnlyList<MemberStatus> Members);

/// <summary>One member as its own /health tells it (or as the others see it, when it does not answer).</summary>
public sealed record MemberStatus(
    string Id, string Role, string State, bool Reachable, string? Status, string? Version, long? Objects, long? UsedBytes,
    long? CapacityBytes, string? Led, double? TemperatureCelsius, string? Scrub);

public sealed record SnapshotContentsAnswer(SnapshotPart? Snapshot, IReadOnlyList<SnapshotBucketPart>? Buckets);

public sealed record SnapshotBucketPart(string Name, DateTimeOffset CreatedAt, long Objects, long Bytes);

public sealed record SnapshotObjectPart(string Key, long Size, string ETag, string? ContentType, long LastModifiedMs, IReadOnlyDictionary<string, string>? UserMetadata);

public sealed record SnapshotObjectPageAnswer(IReadOnlyList<SnapshotObjectPart>? Objects, bool IsTruncated, string? NextAfter);

public sealed record ImportBucketAnswer(string? Name, string? Status, long Objects);

public sealed record ImportObjectAnswer(string? Bucket, string? Key, string? Status, long Size, string? ETag, string? Sha256);

/// <summary>What <c>o3ctl backup</c> prints with <c>--json</c>.</summary>
public sealed record BackupResult(string Path, string Snapshot, long SnapshotIndex, bool SnapshotDeleted, int Buckets, long Objects, long Bytes, double Seconds);

/// <summary>What <c>o3ctl restore</c> prints with <c>--json</c> (<paramref name="Imported"/> is 0 with --verify-only).</summary>
public sealed record RestoreResult(string Path, string Snapshot, bool VerifyOnly, int Buckets, long Objects, long Imported, long AlreadyThere, long Bytes, double Seconds);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    NumberHandling = JsonNumberHandling.AllowReadingFromString, UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(Health))]
[JsonSerializable(typeof(AdminErrorBody))]
[JsonSerializable(typeof(RemoveNodeAnswer))]
[JsonSerializable(typeof(MaintenanceAnswer))]
[JsonSerializable(typeof(RebalanceAnswer))]
[JsonSerializable(typeof(SnapshotAnswer))]
[JsonSerializable(typeof(SnapshotListAnswer))]
[JsonSerializable(typeof(RestoreAnswer))]
[JsonSerializable(typeof(KeyListAnswer))]
[JsonSerializable(typeof(KeyRetiredAnswer))]
[JsonSerializable(typeof(ClusterStatus))]
[JsonSerializable(typeof(CtlError))]
[JsonSerializable(typeof(SnapshotContentsAnswer))]
[JsonSerializable(typeof(SnapshotObjectPageAnswer))]
[JsonSerializable(typeof(ImportBucketAnswer))]
[JsonSerializable(typeof(ImportObjectAnswer))]
[JsonSerializable(typeof(BackupResult))]
[JsonSerializable(typeof(RestoreResult))]
[JsonSerializable(typeof(O3Storage.Ctl.Commands.FlashResult))]
[JsonSerializable(typeof(O3Storage.Ctl.Commands.OsUpdateResult))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class CtlJson : JsonSerializerContext;

/// <summary>The JSON o3ctl writes.</summary>
public static class JsonText
{
    /// <summary>What o3ctl prints: indented, "+" and ":" left readable as the nodes leave them.</summary>
    public static CtlJson Pretty { get; } = new(new JsonSerializerOptions(CtlJson.Default.Options) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    /// <summary>One document per line (a --watch with --json).</summary>
    public static CtlJson Compact { get; } = new(new JsonSerializerOptions(CtlJson.Default.Options) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = false });

    public static string ErrorLine(CtlException e) => JsonSerializer.Serialize(new CtlError(e.Message, e.Detail, (int)e.Code), Compact.CtlError);
}

/// <summary>An error as --json prints it (on stderr), with the exit code o3ctl returns.</summary>
public sealed record CtlError(string Error, string? Detail, int ExitCode);
