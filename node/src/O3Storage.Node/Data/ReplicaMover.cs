// Owns: moving one object's replicas, the one way repair, drain and rebalance all do it: every blob is
// fetched from a holder and its CRC-32C checked, stored on each new holder (which checks it again), and
// only then is the new replica set committed (SetReplicas for exactly that version: a newer version
// makes it a no-op and the copies garbage). Old holders are released by that same commit, so an object
// is never on fewer holders than before while it moves.
// Faults: a new holder that fails is left out, and then no holder is dropped (the commit only adds);
// no new holder at all, or a copy slower than the commit deadline (the targets' collectors would start
// counting the copies as orphans), is a MoveException and nothing is committed.
using System.Buffers;
using System.Collections.Immutable;
using System.Diagnostics;
using O3Storage.Cluster.Lifecycle;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Transport;
using O3Storage.Storage;

namespace O3Storage.Node.Data;

/// <summary>A move did not happen; nothing was committed (copies made become garbage).</summary>
internal sealed class MoveException(string message) : Exception(message);

/// <summary>What a move committed, and how many bytes it copied.</summary>
internal sealed record MoveOutcome(ImmutableArray<string> Replicas, long BytesCopied, bool Complete);

/// <param name="commitDeadline">The longest a move may take from its first copy to its commit: half the orphan grace.</param>
internal sealed class ReplicaMover(IBlobReplicas replicas, ObjectReader reader, Func<MetadataCommand, CancellationToken, Task> commit, TimeSpan commitDeadline)
{
    public async Task<MoveOutcome> MoveAsync(ReplicaMove move, Action<BadReplica> report, CancellationToken token)
    {
        long started = Stopwatch.GetTimestamp();
        var copied = new List<string>(move.CopyTo);
        var failures = new List<string>();
        long bytes = 0;
        foreach (BlobRef blob in move.Version.Blobs)
        {
            if (copied.Count == 0)
            {
                break;
            }

            byte[] buffer = await reader.FetchVerifiedAsync(blob, move.Sources, report, token).ConfigureAwait(false);
            try
            {
                foreach (string target in copied.ToList())
                {
                    try
                    {
                        await replicas.StoreAsync(target, new BlobId(blob.BlobId), buffer.AsMemory(0, (int)blob.LengthBytes), blob.Crc32C, token).ConfigureAwait(false);
                        bytes += blob.LengthBytes;
                    }
                    catch (ReplicaException e)
                    {
                        copied.Remove(target); // its partial copy is garbage; a later round tries again
                        failures.Add($"{target}: {e.Message}");
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        if (copied.Count == 0 && !move.CopyTo.IsEmpty)
        {
            throw new MoveException($"no new holder stored it ({string.Join("; ", failures)})");
        }

        if (Stopwatch.GetElapsedTime(started) > commitDeadline)
        {
            throw new MoveException($"the copy took longer than {commitDeadline.TotalSeconds:0.#} s (half of --orphan-grace): the copies may already count as orphans");
        }

        bool complete = copied.Count == move.CopyTo.Length;
        ImmutableArray<string> replicaSet = complete ? move.Replicas : move.WithoutDrops(copied);
        if (replicaSet.Length != move.Version.Replicas.Length || !replicaSet.All(move.Version.Replicas.Contains))
        {
            // Applies only while the version still has the replicas this move started from.
            await commit(new SetReplicas(move.Bucket, move.Version.Key, move.Version.VersionIndex, replicaSet, move.Version.Replicas), token).ConfigureAwait(false);
        }

        return new MoveOutcome(replicaSet, bytes, complete);
    }
}
