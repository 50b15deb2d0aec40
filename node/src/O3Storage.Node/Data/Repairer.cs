// Owns: putting replicas back. Re-replication: an object on fewer nodes than its placement wants (a
// holder was down during the write, or left) gets its blobs copied, checksum verified, from a holder
// to the next reachable nodes in its placement order, and the larger replica set is committed. Bad
// replicas: a node that failed to serve a blob it should hold gets a verified copy from another holder.
// Pure policy plus copying through IBlobReplicas; the loop and the commit are RepairLoop's.
using System.Buffers;
using System.Collections.Immutable;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Transport;
using O3Storage.Storage;

namespace O3Storage.Node.Data;

/// <summary>An object version whose replica set should grow: the nodes to copy it to.</summary>
internal sealed record RepairPlan(string Bucket, ObjectVersion Version, IReadOnlyList<string> Targets);

internal sealed class Repairer(IBlobReplicas replicas, ObjectReader reader)
{
    /// <summary>
    /// Up to <paramref name="max"/> objects with fewer live replicas (members) than their placement
    /// wants, each with the reachable placement nodes that lack it, in placement order.
    /// </summary>
    public static List<RepairPlan> FindUnderReplicated(MetadataState state, Func<string, bool> reachable, int max)
    {
        var plans = new List<RepairPlan>();
        foreach (BucketState bucket in state.Buckets.Values)
        {
            foreach (ObjectVersion version in bucket.Objects)
            {
                if (version.Blobs.IsEmpty)
                {
                    continue;
                }

                int live = version.Replicas.Count(state.Members.ContainsKey);
                PlacementPlan placement = DataPath.Place(state, bucket.Info.Name, version.Key);
                if (live >= placement.Wanted)
                {
                    continue;
                }

                List<string> targets = [.. placement.Ranked.Where(n => !version.Replicas.Contains(n) && reachable(n)).Take(placement.Wanted - live)];
                if (targets.Count > 0)
                {
                    plans.Add(new RepairPlan(bucket.Info.Name, version, targets));
                    if (plans.Count >= max)
                    {
                        return plans;
                    }
                }
            }
        }

        return plans;
    }

    /// <summary>Copies every blob of the plan's version to each target; the targets that now hold all of it.</summary>
    public async Task<ImmutableArray<string>> CopyAsync(RepairPlan plan, IReadOnlyList<string> sources, Action<BadReplica> report, CancellationToken token)
    {
        var holding = new List<string>(plan.Targets);
        foreach (BlobRef blob in plan.Version.Blobs)
        {
            byte[] buffer = await reader.FetchVerifiedAsync(blob, sources, report, token).ConfigureAwait(false);
            try
            {
                foreach (string target in holding.ToList())
                {
                    try
                    {
                        await replicas.StoreAsync(target, new BlobId(blob.BlobId), buffer.AsMemory(0, (int)blob.LengthBytes), blob.Crc32C, token).ConfigureAwait(false);
                    }
                    catch (ReplicaException)
                    {
                        holding.Remove(target); // its partial copy is garbage; a later round tries again
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (holding.Count == 0)
            {
                break;
            }
        }

        return [.. holding];
    }

    /// <summary>Rewrites a blob on the replica that failed to serve it, from a verified copy on another holder.</summary>
    public async Task HealAsync(BadReplica bad, IReadOnlyList<string> holders, CancellationToken token)
    {
        List<string> sources = [.. holders.Where(h => h != bad.NodeId)];
        byte[] buffer = await reader.FetchVerifiedAsync(bad.Blob, sources, _ => { }, token).ConfigureAwait(false);
        try
        {
            await replicas.StoreAsync(bad.NodeId, new BlobId(bad.Blob.BlobId), buffer.AsMemory(0, (int)bad.Blob.LengthBytes), bad.Blob.Crc32C, token).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
