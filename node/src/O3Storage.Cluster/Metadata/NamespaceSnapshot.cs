// Owns: a named point in time of the object namespace (POST /admin/snapshot): every bucket, object
// version and multipart upload as of the committed index that created it. It shares its structure with
// the state it was taken from (immutable maps), so taking one copies nothing; its blobs stay on their
// holders (the collector keeps them) until it is deleted. Not to be confused with the Raft snapshot
// of the whole metadata (MetadataStateMachine), which carries these along.
using System.Collections.Immutable;

namespace O3Storage.Cluster.Metadata;

public sealed class NamespaceSnapshot
{
    /// <summary>Longest snapshot name.</summary>
    public const int NameLengthMax = 128;

    private readonly Lazy<(long Objects, long Bytes)> _totals;

    public NamespaceSnapshot(string name, long createdUnixMs, long index, ImmutableSortedDictionary<string, BucketState> buckets)
    {
        Name = name;
        CreatedUnixMs = createdUnixMs;
        Index = index;
        Buckets = buckets;
        _totals = new(() => (buckets.Values.Sum(b => (long)b.Objects.Count), buckets.Values.Sum(b => b.Objects.Sum(v => v.SizeBytes))));
    }

    public string Name { get; }

    public long CreatedUnixMs { get; }

    /// <summary>The log index that created it: the namespace as every commit up to this one left it.</summary>
    public long Index { get; }

    public ImmutableSortedDictionary<string, BucketState> Buckets { get; }

    /// <summary>Object versions it holds.</summary>
    public long Objects => _totals.Value.Objects;

    /// <summary>Bytes of those versions (each counted once, not per replica).</summary>
    public long Bytes => _totals.Value.Bytes;

    /// <summary>The same snapshot over other buckets (a removal took a node out of its replica lists).</summary>
    public NamespaceSnapshot WithBuckets(ImmutableSortedDictionary<string, BucketState> buckets) => new(Name, CreatedUnixMs, Index, buckets);

    /// <summary>
    /// Null when <paramref name="name"/> may name a snapshot: 1 to 128 of letters, digits, '.', '_' and
    /// '-', starting with a letter or digit (so it is safe in a path, a shell and a URL); else why not.
    /// </summary>
    public static string? Invalid(string name)
    {
        if (name.Length is 0 or > NameLengthMax)
        {
            return $"a snapshot name has 1 to {NameLengthMax} characters, not {name.Length}";
        }

        if (!char.IsAsciiLetterOrDigit(name[0]))
        {
            return "a snapshot name starts with a letter or digit";
        }

        int bad = name.AsSpan().IndexOfAnyExcept(s_allowed);
        return bad < 0 ? null : $"a snapshot name holds only letters, digits, '.', '_' and '-', not '{name[bad]}' (at {bad})";
    }

    private static readonly System.Buffers.SearchValues<char> s_allowed = System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

    /// <summary>
    /// Bytes and blobs <paramref name="snapshots"/> keep that the namespace of <paramref name="state"/> no
    /// longer refers to (each blob once, not per replica): the space deleting them would give back if no
    /// other snapshot kept the same blobs. O(objects) per snapshot whose buckets differ from the
    /// namespace's; nothing when there is no snapshot.
    /// </summary>
    public static (long Bytes, long Blobs) Pinned(MetadataState state, IEnumerable<NamespaceSnapshot> snapshots)
    {
        HashSet<UInt128>? current = null;
        var pinned = new HashSet<UInt128>();
        long bytes = 0;
        foreach (BucketState bucket in UnsharedBuckets(state, snapshots))
        {
            current ??= BlobIds(state.Buckets);
            foreach (BlobRef blob in Blobs(bucket))
            {
                if (!current.Contains(blob.BlobId) && pinned.Add(blob.BlobId))
                {
                    bytes += blob.LengthBytes;
                }
            }
        }

        return (bytes, pinned.Count);
    }

    /// <summary>Every blob of a bucket's object versions and of its uploads' parts.</summary>
    public static IEnumerable<BlobRef> Blobs(BucketState bucket) => Holdings(bucket).SelectMany(h => h.Blobs);

    /// <summary>What a bucket stores: each object version's and each uploaded part's blobs, with the replicas that hold them.</summary>
    public static IEnumerable<(System.Collections.Immutable.ImmutableArray<BlobRef> Blobs, System.Collections.Immutable.ImmutableArray<string> Replicas)> Holdings(BucketState bucket) =>
        bucket.Objects.Select(v => (v.Blobs, v.Replicas))
            .Concat(bucket.Uploads.Values.SelectMany(u => u.Parts.Values).Select(p => (p.Blobs, p.Replicas)));

    /// <summary>The buckets of <paramref name="snapshots"/> the namespace of <paramref name="state"/> does not share (the same bucket, unchanged since, is skipped).</summary>
    public static IEnumerable<BucketState> UnsharedBuckets(MetadataState state, IEnumerable<NamespaceSnapshot> snapshots) =>
        snapshots.SelectMany(s => s.Buckets.Values)
            .Where(bucket => !state.Buckets.TryGetValue(bucket.Info.Name, out BucketState? now) || !ReferenceEquals(now, bucket));

    private static HashSet<UInt128> BlobIds(ImmutableSortedDictionary<string, BucketState> buckets) =>
        buckets.Values.SelectMany(Blobs).Select(b => b.BlobId).ToHashSet();
}

/// <summary>The last restore of a snapshot: which one, at which log index, when (the proposer's clock).</summary>
public sealed record SnapshotRestore(string Snapshot, long Index, long RestoredUnixMs);
