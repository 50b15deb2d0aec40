// Owns: where an object's replicas live: weighted rendezvous (highest random weight) hashing over the
// current members. Every node computes the same answer from the same member list, with no table to
// keep; adding or removing a member moves only the objects whose top choices it enters or leaves.
// The hash is fixed here (SHA-256 of node id, a zero byte, and the object key), not a runtime hash,
// so placement is the same on every architecture and every version that keeps this file's contract.
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace O3Storage.Cluster.Placement;

/// <summary>A member that can hold replicas, weighted by its capacity (any positive unit).</summary>
public sealed record PlacementCandidate(string NodeId, double Weight);

public static class RendezvousPlacement
{
    /// <summary>
    /// The <paramref name="replicas"/> candidates (or all of them, if fewer) with the highest scores
    /// for <paramref name="objectKey"/>, best first. Score: -weight / ln(u), u uniform in (0, 1) from
    /// the hash: a member's chance of coming first is proportional to its weight.
    /// </summary>
    public static IReadOnlyList<string> Choose(ReadOnlySpan<byte> objectKey, IReadOnlyList<PlacementCandidate> candidates, int replicas)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(replicas);
        var scored = new List<(double Score, string NodeId)>(candidates.Count);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        foreach (PlacementCandidate candidate in candidates)
        {
            if (candidate.Weight <= 0 || double.IsNaN(candidate.Weight))
            {
                continue; // a member with no capacity holds nothing
            }

            byte[] input = new byte[Encoding.UTF8.GetByteCount(candidate.NodeId) + 1 + objectKey.Length];
            int written = Encoding.UTF8.GetBytes(candidate.NodeId, input);
            objectKey.CopyTo(input.AsSpan(written + 1));
            SHA256.HashData(input, hash);
            double uniform = ((BinaryPrimitives.ReadUInt64BigEndian(hash) >> 11) + 0.5) / (1UL << 53);
            scored.Add((-candidate.Weight / Math.Log(uniform), candidate.NodeId));
        }

        // Ties (practically impossible) break by node id, so the order is total and the same everywhere.
        return scored
            .OrderByDescending(s => s.Score)
            .ThenBy(s => s.NodeId, StringComparer.Ordinal)
            .Take(replicas)
            .Select(s => s.NodeId)
            .ToList();
    }

    public static IReadOnlyList<string> Choose(string objectKey, IReadOnlyList<PlacementCandidate> candidates, int replicas) =>
        Choose(Encoding.UTF8.GetBytes(objectKey), candidates, replicas);
}
