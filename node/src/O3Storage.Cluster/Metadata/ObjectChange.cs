// Owns: which objects the applies between two states changed, so work that follows the namespace (the
// placement survey) can look at those instead of walking every object again, and which stored pieces
// those applies released (the blobs and replicas of each version removed or replaced), so the collector
// knows a blob was committed and let go even when no round saw it live in between. Each state names the last
// object change that made it; the links run back, newest first, to a reset: a state read back from a
// snapshot, a restore or a removal (which rewrite every object at once), or a chain grown to its cap
// (what is before a reset is not known, and a reader walks everything again). Immutable and shared
// between the states, as the rest of MetadataState is.
using System.Collections.Immutable;

namespace O3Storage.Cluster.Metadata;

public sealed class ObjectChange
{
    /// <summary>
    /// Links in one chain at most: past it a new chain starts (one full walk for a reader far behind), so a
    /// state never keeps more than this many links alive (about 3 MiB).
    /// </summary>
    public const int ChainMax = 65_536;

    private readonly int _depth;

    private ObjectChange(string? bucket, string? key, ObjectVersion? released, ObjectChange? previous, int depth)
    {
        Bucket = bucket;
        Key = key;
        // The arrays only (the version's strings are not kept alive): about 60 bytes a link when the chain is full.
        ReleasedBlobs = released?.Blobs ?? [];
        ReleasedReplicas = released?.Replicas ?? [];
        Previous = previous;
        _depth = depth;
    }

    /// <summary>The changed object's bucket; null on a reset.</summary>
    public string? Bucket { get; }

    /// <summary>The changed object's key; null on a reset.</summary>
    public string? Key { get; }

    /// <summary>The blobs of the version this change removed or replaced; empty when it added a key, or on a reset.</summary>
    public ImmutableArray<BlobRef> ReleasedBlobs { get; }

    /// <summary>The replicas that held <see cref="ReleasedBlobs"/>.</summary>
    public ImmutableArray<string> ReleasedReplicas { get; }

    /// <summary>The change before this one; null on a reset.</summary>
    public ObjectChange? Previous { get; }

    public bool IsReset => Previous is null;

    /// <summary>A new start: what came before it is not known.</summary>
    public static ObjectChange Reset() => new(null, null, null, null, 0);

    /// <summary>This chain with one more change (a new chain after a reset once this one is full).</summary>
    /// <param name="released">The version the change removed or replaced, if any.</param>
    public ObjectChange Then(string bucket, string key, ObjectVersion? released) =>
        _depth >= ChainMax ? new(bucket, key, released, Reset(), 1) : new(bucket, key, released, this, _depth + 1);

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

    /// <summary>
    /// The stored pieces (blobs, and the replicas that held them) of every version removed or replaced
    /// after <paramref name="since"/> up to this link, oldest first; null when the chain does not reach
    /// back to it. A version written and deleted between two looks is here though neither look saw it.
    /// </summary>
    public List<(ImmutableArray<BlobRef> Blobs, ImmutableArray<string> Replicas)>? ReleasedSince(ObjectChange since)
    {
        var released = new List<(ImmutableArray<BlobRef>, ImmutableArray<string>)>();
        for (ObjectChange link = this; !ReferenceEquals(link, since); link = link.Previous!)
        {
            if (link.IsReset)
            {
                return null;
            }

            if (!link.ReleasedBlobs.IsEmpty)
            {
                released.Add((link.ReleasedBlobs, link.ReleasedReplicas));
            }
        }

        released.Reverse();
        return released;
    }
}
