// Owns: the keys this node honours: its own api-keys.txt (read at start, and again whenever the file
// changes), the cluster's first admin key when this node holds a copy (DATA/first-admin-key), and every
// key the cluster holds (SetApiKeys: the members' files and the first admin key).
// A key added to any member's file is honoured by every node once that member has shared it.
// Assumes: one caller refreshes (the KeySyncLoop); request threads read Current concurrently.
// Faults: a file that turns bad while the node runs (wrong mode, a bad line) leaves the keys it had;
// Refresh says why, and the loop logs it.
using System.Collections.Immutable;
using O3Storage.Cluster.Metadata;

namespace O3Storage.Node.Auth;

public sealed class KeyRing
{
    private readonly WatchedFile _own;
    private readonly WatchedFile _firstAdmin;
    private Merged _merged = new(null, null, null, null);

    private KeyRing(WatchedFile own, WatchedFile firstAdmin)
    {
        _own = own;
        _firstAdmin = firstAdmin;
    }

    /// <summary>This node's own api-keys.txt as last read; null when there is none.</summary>
    public ApiKeys? Local => _own.Keys;

    /// <summary>The first admin key as this node's copy holds it; null when it has none.</summary>
    public ApiKeys? FirstAdmin => _firstAdmin.Keys;

    /// <summary>
    /// The key file read at start (<paramref name="local"/>: its keys, or null when it does not exist), and
    /// the copy of the first admin key at <paramref name="firstAdminPath"/>, read now.
    /// </summary>
    public static KeyRing Started(string path, ApiKeys? local, string firstAdminPath)
    {
        var firstAdmin = new WatchedFile(firstAdminPath, null);
        firstAdmin.Refresh(out _);
        return new KeyRing(new WatchedFile(path, local), firstAdmin);
    }

    /// <summary>The keys as the cluster holds them, for <see cref="SetApiKeys"/> (the roles' numbers are ApiRole's).</summary>
    public static ImmutableArray<ClusterKey> ToCluster(ApiKeys? keys) =>
        [.. (keys?.Keys ?? []).Select(k => new ClusterKey((byte)k.Role, k.Secret, k.AccessKeyId))];

    /// <summary>Whether the cluster holds exactly <paramref name="keys"/> (in order) as one source's.</summary>
    public static bool Same(ImmutableArray<ClusterKey> keys, ImmutableArray<ClusterKey> held) =>
        keys.AsSpan().SequenceEqual(held.IsDefault ? [] : held.AsSpan());

    /// <summary>Every key this node honours now: its file's, its copy of the first admin key (until the cluster holds it), then the cluster's by source (ordinal order); null when none (authentication off).</summary>
    public ApiKeys? Current(ImmutableSortedDictionary<string, ImmutableArray<ClusterKey>> cluster)
    {
        Merged merged = _merged;
        // The copy of the first admin key counts only until the cluster holds the key (it then counts as
        // the cluster's), and never once the cluster retired it, whether or not the copy is deleted yet.
        ApiKeys? local = Local, firstAdmin = cluster.ContainsKey(ClusterKey.FirstAdminSource) ? null : FirstAdmin;
        if (ReferenceEquals(merged.Cluster, cluster) && ReferenceEquals(merged.Local, local) && ReferenceEquals(merged.FirstAdmin, firstAdmin))
        {
            return merged.Keys;
        }

        ApiKeys? keys = ApiKeys.Merge(local, (firstAdmin?.Keys ?? []).Concat(cluster.Values.SelectMany(source => source)
            .Where(k => k.Role <= ClusterKey.RoleMax)
            .Select(k => new ApiKey((ApiRole)k.Role, k.Secret, k.AccessKeyId))));
        _merged = new Merged(cluster, local, firstAdmin, keys);
        return keys;
    }

    /// <summary>
    /// Reads api-keys.txt again if it changed (time, size or mode) since it was last read: true when its
    /// keys changed. A file that is gone means no keys of this node's own; one that cannot be used keeps
    /// the keys read before, with <paramref name="error"/> saying why.
    /// </summary>
    public bool Refresh(out string? error) => _own.Refresh(out error);

    /// <summary>Reads this node's copy of the first admin key again (after the KeySyncLoop wrote or removed it).</summary>
    public void RefreshFirstAdmin() => _firstAdmin.Refresh(out _);

    private sealed record Merged(object? Cluster, ApiKeys? Local, ApiKeys? FirstAdmin, ApiKeys? Keys);

    /// <summary>A key file, read again when its time, size or mode change.</summary>
    private sealed class WatchedFile(string path, ApiKeys? keys)
    {
        private (DateTime Written, long Length, UnixFileMode Mode)? _stamp = Stamp(path);

        public ApiKeys? Keys { get; private set; } = keys;

        public bool Refresh(out string? error)
        {
            error = null;
            (DateTime, long, UnixFileMode)? stamp = Stamp(path);
            if (stamp == _stamp && (stamp is null || Keys is not null))
            {
                return false;
            }

            ApiKeys? read = null;
            if (stamp is not null && (read = ApiKeys.TryLoad(path, out error)) is null)
            {
                return false; // tried again on the next change (a chmod 600 is one)
            }

            _stamp = stamp;
            bool changed = !Same(ToCluster(read), ToCluster(Keys));
            Keys = read;
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
    }
}
