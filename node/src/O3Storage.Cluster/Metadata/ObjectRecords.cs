// Owns: what the replicated metadata knows of buckets and objects. Object versions are immutable: an
// overwrite commits a new version with new blobs, and a blob no committed version refers to is
// garbage on the nodes that hold it (which is also how blobs of a write that never committed go).
using System.Collections.Immutable;

namespace O3Storage.Cluster.Metadata;

public sealed record BucketRecord(string Name, long CreatedUnixMs, long CreatedAtIndex);

/// <summary>One stored piece of an object: a blob of <paramref name="LengthBytes"/> with its CRC-32C, held by every replica.</summary>
public readonly record struct BlobRef(UInt128 BlobId, long LengthBytes, uint Crc32C);

/// <summary>
/// The current version of one object. <see cref="VersionIndex"/> is the Raft index that committed it;
/// <see cref="Blobs"/> are its bytes in order (one for a small object, several for large or multipart
/// ones), each stored on every node of <see cref="Replicas"/>.
/// </summary>
public sealed record ObjectVersion(
    string Key,
    long VersionIndex,
    long SizeBytes,
    string ETag,
    string ContentType,
    long CreatedUnixMs,
    ImmutableArray<KeyValuePair<string, string>> UserMetadata,
    ImmutableArray<BlobRef> Blobs,
    ImmutableArray<string> Replicas);

/// <summary>One uploaded part of a multipart upload: its bytes are stored like an object's, on <see cref="Replicas"/>.</summary>
public sealed record UploadedPart(int PartNumber, string ETag, long SizeBytes, long LastModifiedUnixMs, ImmutableArray<BlobRef> Blobs, ImmutableArray<string> Replicas);

/// <summary>A multipart upload in progress: what CreateMultipartUpload fixed, and the parts uploaded so far by number.</summary>
public sealed record MultipartUpload(
    string UploadId,
    string Key,
    long InitiatedUnixMs,
    string ContentType,
    ImmutableArray<KeyValuePair<string, string>> UserMetadata,
    ImmutableSortedDictionary<int, UploadedPart> Parts)
{
    public static ImmutableSortedDictionary<int, UploadedPart> NoParts { get; } = ImmutableSortedDictionary<int, UploadedPart>.Empty;
}

/// <summary>A bucket, its objects, and its multipart uploads in progress (by upload id).</summary>
public sealed record BucketState(BucketRecord Info, ObjectIndex Objects)
{
    public static ImmutableSortedDictionary<string, MultipartUpload> NoUploads { get; } = ImmutableSortedDictionary<string, MultipartUpload>.Empty.WithComparers(StringComparer.Ordinal);

    public ImmutableSortedDictionary<string, MultipartUpload> Uploads { get; init; } = NoUploads;

    public static BucketState Create(BucketRecord info) => new(info, ObjectIndex.Empty);
}

/// <summary>
/// A bucket's current object versions by key, in S3 order (UTF-8 byte order), immutable. Finding a key,
/// and seeking to where a listing resumes, cost O(log n): a page of a listing never walks the keys
/// before it.
/// </summary>
public sealed class ObjectIndex : IReadOnlyCollection<ObjectVersion>
{
    private static readonly IComparer<ObjectVersion> s_byKey = new ByKey();
    private readonly ImmutableSortedSet<ObjectVersion> _set;

    private ObjectIndex(ImmutableSortedSet<ObjectVersion> set) => _set = set;

    public static ObjectIndex Empty { get; } = new(ImmutableSortedSet.Create(s_byKey));

    public int Count => _set.Count;

    public bool IsEmpty => _set.IsEmpty;

    public IEnumerable<string> Keys => _set.Select(v => v.Key);

    public static ObjectIndex Create(IEnumerable<ObjectVersion> versions) => new(ImmutableSortedSet.CreateRange(s_byKey, versions));

    public ObjectVersion? Find(string key) => _set.TryGetValue(Probe(key), out ObjectVersion? found) ? found : null;

    public bool Contains(string key) => _set.Contains(Probe(key));

    /// <summary>Adds or replaces the version of its key.</summary>
    public ObjectIndex SetItem(ObjectVersion version) => new(_set.Remove(version).Add(version));

    public ObjectIndex Remove(string key) => new(_set.Remove(Probe(key)));

    /// <summary>Versions in key order starting at <paramref name="key"/> (or just after it).</summary>
    public IEnumerable<ObjectVersion> From(string key, bool inclusive)
    {
        int index = _set.IndexOf(Probe(key));
        index = index < 0 ? ~index : inclusive ? index : index + 1;
        for (; index < _set.Count; index++)
        {
            yield return _set[index];
        }
    }

    public IEnumerator<ObjectVersion> GetEnumerator() => _set.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    private static ObjectVersion Probe(string key) => new(key, 0, 0, string.Empty, string.Empty, 0, [], [], []);

    private sealed class ByKey : IComparer<ObjectVersion>
    {
        public int Compare(ObjectVersion? x, ObjectVersion? y) => Utf8OrdinalComparer.Instance.Compare(x?.Key, y?.Key);
    }
}

/// <summary>Orders strings as S3 lists keys: by UTF-8 bytes, which is code point order (not UTF-16 order).</summary>
public sealed class Utf8OrdinalComparer : IComparer<string>
{
    public static Utf8OrdinalComparer Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return x is null ? (y is null ? 0 : -1) : 1;
        }

        // Keys share long prefixes (directories, dates): find where they part with one vectorized scan.
        int common = x.AsSpan().CommonPrefixLength(y);
        return common < x.Length && common < y.Length ? Fix(x[common]).CompareTo(Fix(y[common])) : x.Length.CompareTo(y.Length);
    }

    /// <summary>Moves surrogates (code points from U+10000) above U+E000..U+FFFF, as UTF-8 orders them.</summary>
    private static int Fix(char c) => c >= 0xD800 ? (c >= 0xE000 ? c - 0x800 : c + 0x2000) : c;
}
