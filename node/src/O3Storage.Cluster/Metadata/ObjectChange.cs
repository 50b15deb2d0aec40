// Owns: which objects the applies between two states changed, so work that follows the namespace (the
// placement survey) can look at those instead of walking every object again. Each state names the last
// object change that made it; the links run back, newest first, to a reset: a state read back from a
// snapshot, a restore or a removal (which rewrite every object at once), or a chain grown to its cap
// (what is before a reset is not known, and a reader walks everything again). Immutable and shared
// between the states, as the rest of MetadataState is.
namespace O3Storage.Cluster.Metadata;

public sealed class ObjectChange
{
    /// <summary>
    /// Links in one chain at most: past it a new chain starts (one full walk for a reader far behind), so a
    /// state never keeps more than this many links alive (about 3 MiB).
    /// </summary>
    public const int ChainMax = 65_536;

    private readonly int _depth;

    private ObjectChange(string? bucket, string? key, ObjectChange? previous, int depth)
    {
        Bucket = bucket;
        Key = key;
        Previous = previous;
        _depth = depth;
    }

    /// <summary>The changed object's bucket; null on a reset.</summary>
    public string? Bucket { get; }

    /// <summary>The changed object's key; null on a reset.</summary>
    public string? Key { get; }

    /// <summary>The change before this one; null on a reset.</summary>
    public ObjectChange? Previous { get; }

    public bool IsReset => Previous is null;

    /// <summary>A new start: what came before it is not known.</summary>
    public static ObjectChange Reset() => new(null, null, null, 0);

    /// <summary>This chain with one more change (a new chain after a reset once this one is full).</summary>
    public ObjectChange Then(string bucket, string key) =>
        _depth >= ChainMax ? new(bucket, key, Reset(), 1) : new(bucket, key, this, _depth + 1);

    /// <summary>
    /// The objects changed after <paramref name="since"/> up to this link, once each; null when the chain
    /// does not reach back to it (a reset between, or another lineage): then only a full walk knows.
    /// </summary>
    public HashSet<(string Bucket, string Key)>? Since(ObjectChange since)
    {
        var changed = new HashSet<(string Bucket, string Key)>();
        for (ObjectChange link = this; !ReferenceEquals(link, since); link = link.Previous!)
        {
            if (link.IsReset)
            {
                return null;
            }

            changed.Add((link.Bucket!, link.Key!));
        }

        return changed;
    }
}
