// Owns: which blobs one node must keep, followed from the objects that changed instead of a walk of
// every object each collection round (a walk builds a set of every blob: seconds and hundreds of MB at
// millions of objects, every round, idle or not). A state the last one's change chain reaches
// (ObjectChange) is brought up to date key by key; anything else (the first state, a snapshot read
// back, a restore or a removal, named snapshots kept: their buckets share versions with the namespace)
// walks every object, as BlobCollector.LiveOn does. Followed, it also gathers the blobs here of every
// version removed or replaced on the way (TakeReleased), intermediate ones too.
// Faults: none of its own. Inexact on purpose in one direction: a blob an overwrite or delete released
// that another version still names (a copy shares its source's blobs) drops out of the followed set;
// the collector deletes only what Exact, a full walk, confirms, so that costs a walk, never a blob.
using System.Collections.Immutable;
using O3Storage.Cluster.Metadata;
using O3Storage.Storage;

namespace O3Storage.Node.Data;

internal sealed class LiveBlobs(string nodeId)
{
    private MetadataState? _state;
    private HashSet<BlobId> _objects = [];
    private HashSet<BlobId> _parts = [];
    private HashSet<BlobId> _released = [];

    /// <summary>Walks of every object so far.</summary>
    public int FullWalks { get; private set; }

    /// <summary>Whether the last state this was brought to names <paramref name="id"/> on this node.</summary>
    public bool Contains(BlobId id) => _objects.Contains(id) || _parts.Contains(id);

    /// <summary>Brought up to <paramref name="state"/> from the objects changed since the last one where it can; see the remarks on the class for what may be missing.</summary>
    public LiveBlobs At(MetadataState state)
    {
        if (ReferenceEquals(state, _state))
        {
            return this;
        }

        MetadataState? before = _state;
        HashSet<(string Bucket, string Key)>? changed = before is null || before.Snapshots.Count > 0 || state.Snapshots.Count > 0 ? null : state.ObjectChangesSince(before);
        if (changed is null)
        {
            return Exact(state);
        }

        // Every version the applies let go of, those written and removed between two looks too: their blobs
        // here were committed once, so the collector gives them the short release delay, not an orphan's grace.
        foreach ((ImmutableArray<BlobRef> blobs, ImmutableArray<string> replicas) in state.ObjectsReleasedSince(before!) ?? [])
        {
            if (replicas.Contains(nodeId))
            {
                _released.UnionWith(blobs.Select(b => new BlobId(b.BlobId)));
            }
        }

        foreach ((string bucket, string key) in changed)
        {
            ImmutableArray<BlobRef> was = Here(before!.FindObject(bucket, key)), now = Here(state.FindObject(bucket, key));
            foreach (BlobRef blob in was)
            {
                if (!now.Contains(blob))
                {
                    _objects.Remove(new BlobId(blob.BlobId));
                }
            }

            foreach (BlobRef blob in now)
            {
                _objects.Add(new BlobId(blob.BlobId));
            }
        }

        // Uploads are not in the change chain, and are few: their parts are looked at again.
        _parts = Parts(state.Buckets.Values);
        _state = state;
        return this;
    }

    /// <summary>
    /// The blobs on this node that versions removed or replaced since the last take named (live again or
    /// not: the caller checks), followed from the changes; what a full walk replaced is not among them.
    /// </summary>
    public HashSet<BlobId> TakeReleased()
    {
        HashSet<BlobId> released = _released;
        _released = [];
        return released;
    }

    /// <summary>Every object of <paramref name="state"/> walked: exactly what it names on this node, whatever changed.</summary>
    public LiveBlobs Exact(MetadataState state)
    {
        List<BucketState> buckets = [.. state.Buckets.Values.Concat(NamespaceSnapshot.UnsharedBuckets(state, state.Snapshots.Values))];
        var objects = new HashSet<BlobId>();
        foreach (ObjectVersion version in buckets.SelectMany(b => b.Objects))
        {
            foreach (BlobRef blob in Here(version))
            {
                objects.Add(new BlobId(blob.BlobId));
            }
        }

        (_objects, _parts, _state) = (objects, Parts(buckets), state);
        FullWalks++;
        return this;
    }

    private ImmutableArray<BlobRef> Here(ObjectVersion? version) => version is not null && version.Replicas.Contains(nodeId) ? version.Blobs : [];

    private HashSet<BlobId> Parts(IEnumerable<BucketState> buckets) =>
        [.. buckets.SelectMany(b => b.Uploads.Values).SelectMany(u => u.Parts.Values).Where(p => p.Replicas.Contains(nodeId)).SelectMany(p => p.Blobs).Select(b => new BlobId(b.BlobId))];
}
