// Owns: which blobs a node's scrub must find on its own disk: every blob of every committed object
// version whose replica set names the node, in a stable order (bucket, key, blob) so a pass's progress
// means something. Multipart parts of uploads in progress are not committed objects and are left out.
// Pure: metadata in, a list out.
using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Lifecycle;

/// <summary>One blob a node should hold, and the object it belongs to (what repair needs to heal it).</summary>
public readonly record struct ScrubTarget(string Bucket, string Key, BlobRef Blob);

public static class ScrubTargets
{
    public static IReadOnlyList<ScrubTarget> Of(MetadataState state, string nodeId)
    {
        var targets = new List<ScrubTarget>();
        foreach (BucketState bucket in state.Buckets.Values.OrderBy(b => b.Info.Name, StringComparer.Ordinal))
        {
            foreach (ObjectVersion version in bucket.Objects)
            {
                if (version.Replicas.Contains(nodeId))
                {
                    targets.AddRange(version.Blobs.Select(blob => new ScrubTarget(bucket.Info.Name, version.Key, blob)));
                }
            }
        }

        return targets;
    }

    /// <summary>True while <paramref name="state"/> still says <paramref name="nodeId"/> holds <paramref name="target"/> (not deleted, overwritten or moved since).</summary>
    public static bool StillHeld(MetadataState state, string nodeId, ScrubTarget target) =>
        state.FindObject(target.Bucket, target.Key) is { } version && version.Replicas.Contains(nodeId) && version.Blobs.Contains(target.Blob);
}
