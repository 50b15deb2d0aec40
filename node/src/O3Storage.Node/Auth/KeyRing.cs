// Owns: the keys this node honours: its own api-keys.txt (read at start, and again whenever the file
// changes) and every key the cluster holds (SetApiKeys: the other members' files, the first admin key).
// A key added to any member's file is honoured by every node once that member has shared it.
// Assumes: one caller refreshes (the KeySyncLoop); request threads read Current concurrently.
// Faults: a file that turns bad while the node runs (wrong mode, a bad line) leaves the keys it had;
// Refresh says why, and the loop logs it.
using System.Collections.Immutable;
using O3Storage.Cluster.Metadata;

namespace O3Storage.Node.Auth;

public sealed class KeyRing
{
    private readonly string _path;
    private Merged _merged = new(null, null, null);
    private (DateTime Written, long Length, UnixFileMode Mode)? _stamp;

    private KeyRing(string path, ApiKeys? local)
    {
        _path = path;
        Local = local;
        _stamp = Stamp(path);
    }

    /// <summary>This node's own api-keys.txt as last read; null when there is none.</summary>
    public ApiKeys? Local { get; private set; }

    /// <summary>The file read at start (<paramref name="local"/>: its keys, or null when it does not exist).</summary>
    public static KeyRing Started(string path, ApiKeys? local) => new(path, local);

    /// <summary>The keys as the cluster holds them, for <see cref="SetApiKeys"/> (the roles' numbers are ApiRole's).</summary>
    public static ImmutableArray<ClusterKey> ToCluster(ApiKeys? keys) =>
        [.. (keys?.Keys ?? []).Select(k => new ClusterKey((byte)k.Role, k.Secret, k.AccessKeyId))];

    /// <summary>Whether the cluster holds exactly <paramref name="keys"/> (in order) as one source's.</summary>
    public static bool Same(ImmutableArray<ClusterKey> keys, ImmutableArray<ClusterKey> held) =>
        keys.AsSpan().SequenceEqual(held.IsDefault ? [] : held.AsSpan());

    /// <summary>Every key this node honours now: its file's, then the cluster's by source (ordinal order); null when none (authentication off).</summary>
    public ApiKeys? Current(ImmutableSortedDictionary<string, ImmutableArray<ClusterKey>> cluster)
    {
        Merged merged = _merged;
        if (ReferenceEquals(merged.Cluster, cluster) && ReferenceEquals(merged.Local, Local))
        {
            return merged.Keys;
        }

        ApiKeys? local = Local;
        ApiKeys? keys = ApiKeys.Merge(local, cluster.Values.SelectMany(source => source)
            .Where(k => k.Role <= ClusterKey.RoleMax)
            .Select(k => new ApiKey((ApiRole)k.Role, k.Secret, k.AccessKeyId)));
        _merged = new Merged(cluster, local, keys);
        return keys;
    }

    /// <summary>
    /// Reads the file again if it changed (time, size or mode) since it was last read: true when its keys
    /// changed. A file that is gone means no keys of this node's own; one that cannot be used keeps the
    /// keys read before, with <paramref name="error"/> saying why.
    /// </summary>
    public bool Refresh(out string? error)
    {
        error = null;
        (DateTime, long, UnixFileMode)? stamp = Stamp(_path);
        if (stamp == _stamp)
        {
            return false;
        }

        ApiKeys? keys = null;
        if (stamp is not null && (keys = ApiKeys.TryLoad(_path, out error)) is null)
        {
            return false; // tried again on the next change (a chmod 600 is one)
        }

        _stamp = stamp;
        bool changed = !Same(ToCluster(keys), ToCluster(Local));
        Local = keys;
        return changed;
    }

    private static (DateTime, long, UnixFileMode)? Stamp(string path)
    {
        var file = new FileInfo(path);
        try
        {
            return file.Exists ? (file.LastWriteTimeUtc, file.Length, file.UnixFileMode) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private sealed record Merged(object? Cluster, ApiKeys? Local, ApiKeys? Keys);
}
