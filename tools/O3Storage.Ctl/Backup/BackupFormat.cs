// Owns: what an o3ctl backup holds and in which order, the same in a directory and in a tar archive:
//   o3backup.json                 the manifest: cluster, snapshot, buckets (written first)
//   objects/00000001.json         one object's metadata and SHA-256, then
//   objects/00000001.data         its bytes; and so on, numbered in the order they were read
//   o3backup-end.json             how many objects and bytes, and when it finished (written last)
// A backup without its end file is incomplete and is refused by restore. Field names are a contract:
// add, never rename; "format" changes only when an older o3ctl could not restore the new layout.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace O3Storage.Ctl.Backup;

/// <summary>The manifest, first in every backup.</summary>
public sealed record BackupManifest(
    string Format, string? ClusterId, BackupSnapshot Snapshot, DateTimeOffset TakenAt, string? TakenFrom, string O3ctlVersion,
    IReadOnlyList<BackupBucket> Buckets, long Objects, long Bytes);

/// <summary>The snapshot a backup was read from: what "consistent" means here (every commit up to <paramref name="Index"/>, nothing after).</summary>
public sealed record BackupSnapshot(string Name, long Index, DateTimeOffset CreatedAt);

public sealed record BackupBucket(string Name, DateTimeOffset CreatedAt, long Objects, long Bytes);

/// <summary>One object: what a restore needs to make it again as it was, and its bytes' SHA-256.</summary>
public sealed record BackupObject(
    string Bucket, string Key, long Size, string ETag, string ContentType, long LastModifiedMs,
    IReadOnlyDictionary<string, string> UserMetadata, string Sha256);

/// <summary>Last in every backup: what it holds, so a short one is known.</summary>
public sealed record BackupEnd(long Objects, long Bytes, DateTimeOffset FinishedAt);

public static class BackupFormat
{
    public const string Version = "o3backup/1";

    public const string ManifestName = "o3backup.json";

    public const string EndName = "o3backup-end.json";

    public const string ObjectsFolder = "objects";

    public static string MetadataName(long number) => $"{ObjectsFolder}/{number:D8}.json";

    public static string DataName(long number) => $"{ObjectsFolder}/{number:D8}.data";

    /// <summary>Whether <paramref name="path"/> names an archive (a .tar file, or - for standard input or output) rather than a directory.</summary>
    public static bool IsArchive(string path) => path == "-" || path.EndsWith(".tar", StringComparison.OrdinalIgnoreCase);

    public static byte[] Serialize<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        [.. JsonSerializer.SerializeToUtf8Bytes(value, type), (byte)'\n'];

    /// <summary>Reads one JSON document of a backup; a damaged one is named.</summary>
    /// <exception cref="BackupFormatException">It is not what the format says it is.</exception>
    public static T Deserialize<T>(ReadOnlySpan<byte> json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string name)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new BackupFormatException($"{name} is damaged: {e.Message}");
        }
    }
}

/// <summary>A backup that is not whole or not in o3ctl's format: what is wrong, by file.</summary>
public sealed class BackupFormatException(string message) : Exception(message);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(BackupManifest))]
[JsonSerializable(typeof(BackupObject))]
[JsonSerializable(typeof(BackupEnd))]
public sealed partial class BackupJson : JsonSerializerContext;
