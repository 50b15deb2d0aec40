// Owns: serving a byte range of one object version from its replicas. Each blob the range touches is
// fetched whole into memory and its CRC-32C checked before any of its bytes go out, so a client never
// receives bytes that fail their checksum; the next blob is fetched while the current one is sent.
// Faults: a replica that is down, lacks the blob, or returns bad bytes is reported and the next one is
// tried (this node first, then the others in placement order). When none can serve the first blob the
// caller still owns the response and answers an error; when a later blob fails, the response is cut short.
using System.Buffers;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Transport;
using O3Storage.Storage;
using O3Storage.Storage.Format;

namespace O3Storage.Node.Data;

/// <summary>No replica could serve a blob of the object.</summary>
internal sealed class ObjectUnreadableException(string message) : Exception(message);

/// <summary>A replica that failed to serve a blob it should hold: input for repair.</summary>
internal sealed record BadReplica(string NodeId, BlobRef Blob, string Problem);

internal sealed class ObjectReader(IBlobReplicas replicas)
{
    /// <summary>
    /// Writes bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="count"/>) of
    /// <paramref name="version"/> to <paramref name="destination"/>. <paramref name="ready"/> runs once the
    /// first blob is verified (or at once for an empty range), before any byte is written: the place to
    /// send status and headers.
    /// </summary>
    /// <param name="order">The replicas to try, best first.</param>
    /// <param name="report">Told of every replica that failed.</param>
    public async Task CopyAsync(ObjectVersion version, long offset, long count, IReadOnlyList<string> order, Func<Task> ready, Stream destination, Action<BadReplica> report, CancellationToken token)
    {
        List<(BlobRef Blob, long Skip, long Take)> pieces = Pieces(version, offset, count);
        if (pieces.Count == 0)
        {
            await ready().ConfigureAwait(false);
            return;
        }

        Task<byte[]> fetching = FetchVerifiedAsync(pieces[0].Blob, order, report, token);
        for (int i = 0; i < pieces.Count; i++)
        {
            byte[] buffer = await fetching.ConfigureAwait(false);
            try
            {
                if (i + 1 < pieces.Count)
                {
                    fetching = FetchVerifiedAsync(pieces[i + 1].Blob, order, report, token);
                }

                if (i == 0)
                {
                    await ready().ConfigureAwait(false);
                }

                (_, long skip, long take) = pieces[i];
                await destination.WriteAsync(buffer.AsMemory((int)skip, (int)take), token).ConfigureAwait(false);
            }
            catch
            {
                if (i + 1 < pieces.Count)
                {
                    await ((Task)fetching).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    if (fetching.IsCompletedSuccessfully)
                    {
                        ArrayPool<byte>.Shared.Return(fetching.Result);
                    }
                }

                throw;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>The blobs a range touches, with how much of each to skip and to take.</summary>
    internal static List<(BlobRef Blob, long Skip, long Take)> Pieces(ObjectVersion version, long offset, long count)
    {
        var pieces = new List<(BlobRef, long, long)>();
        long start = 0;
        foreach (BlobRef blob in version.Blobs)
        {
            long end = start + blob.LengthBytes;
            long from = Math.Max(offset, start);
            long to = Math.Min(offset + count, end);
            if (from < to)
            {
                pieces.Add((blob, from - start, to - from));
            }

            start = end;
        }

        return pieces;
    }

    /// <summary>One whole blob, checksum verified, from the first of <paramref name="order"/> that serves it; a pooled buffer the caller returns to ArrayPool.Shared.</summary>
    /// <exception cref="ObjectUnreadableException">No replica could serve it.</exception>
    public async Task<byte[]> FetchVerifiedAsync(BlobRef blob, IReadOnlyList<string> order, Action<BadReplica> report, CancellationToken token)
    {
        var problems = new List<string>();
        foreach (string node in order)
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent((int)blob.LengthBytes);
            string problem;
            try
            {
                await replicas.FetchAsync(node, new BlobId(blob.BlobId), buffer.AsMemory(0, (int)blob.LengthBytes), token).ConfigureAwait(false);
                uint crc = Crc32C.Compute(buffer.AsSpan(0, (int)blob.LengthBytes));
                if (crc == blob.Crc32C)
                {
                    return buffer;
                }

                problem = $"checksum mismatch: CRC-32C {crc:x8}, metadata says {blob.Crc32C:x8}";
            }
            catch (ReplicaException e)
            {
                problem = e.Message;
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }

            ArrayPool<byte>.Shared.Return(buffer);
            problems.Add($"{node}: {problem}");
            report(new BadReplica(node, blob, problem));
        }

        throw new ObjectUnreadableException($"no replica could serve blob {new BlobId(blob.BlobId)} ({(problems.Count == 0 ? "no member of this cluster holds a replica" : string.Join("; ", problems))})");
    }
}
