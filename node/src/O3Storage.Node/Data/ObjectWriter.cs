// Owns: storing one object's bytes on its replicas. The body is cut into chunks of ChunkBytes; each
// chunk becomes one blob, sent to every replica at once, while the next chunk is read from the client,
// so a PUT runs at the speed of the slower of the two and holds at most two chunks in memory. Each blob's
// CRC-32C is computed before it is sent; MD5 (the ETag) and SHA-256 (when the request signed its payload)
// on another thread while it is sent, one chunk after the other.
// Faults: a replica that fails the first chunk is replaced by the next candidate in placement order; one
// that fails later is dropped (its earlier blobs become garbage); fewer than `minimum` holders left, a
// short body, or a cancelled request throws, and the blobs stored so far are deleted best effort (the
// orphan collector takes whatever that misses). Nothing here commits metadata: the caller does, after.
using System.Buffers;
using System.Collections.Immutable;
using System.Security.Cryptography;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Transport;
using O3Storage.Storage;
using O3Storage.Storage.Format;

namespace O3Storage.Node.Data;

/// <summary>
/// The bytes of one object, stored: what its metadata record needs. With <paramref name="Inline"/> they are
/// not stored yet: the commit carries them (PutInline) and each of <paramref name="Replicas"/> stores them as it applies it.
/// </summary>
internal sealed record StoredObject(long SizeBytes, byte[] Md5, byte[]? Sha256, ImmutableArray<BlobRef> Blobs, ImmutableArray<string> Replicas, byte[]? Inline = null)
{
    /// <summary>The command that makes <paramref name="version"/> (built from this) current: PutInline when the bytes travel with it.</summary>
    public MetadataCommand Command(string bucket, ObjectVersion version) =>
        Inline is null ? new PutObject(bucket, version) : new PutInline(bucket, version, Inline);
}

/// <summary>The body ended before its declared length, or ran past it.</summary>
internal sealed class IncompleteBodyException(string message) : Exception(message);

/// <summary>Too few replicas could store the object; <see cref="Full"/> when the ones that refused were out of space.</summary>
internal sealed class ReplicationException(string message, bool full) : Exception(message)
{
    public bool Full { get; } = full;
}

internal sealed class ObjectWriter(IBlobReplicas replicas, int chunkBytes = ObjectWriter.DefaultChunkBytes)
{
    /// <summary>4 MiB: large enough that per-blob costs (a header block, a round trip) vanish, small enough for two per upload in a Pi's memory.</summary>
    public const int DefaultChunkBytes = 4 << 20;

    /// <param name="body">The request body, already decoded (aws-chunked) if it was.</param>
    /// <param name="lengthBytes">The declared length; the body must hold exactly this many bytes.</param>
    /// <param name="ranked">Every candidate node, best placement first.</param>
    /// <param name="wanted">How many replicas to store (the replication factor, capped at the members).</param>
    /// <param name="minimum">How many replicas must hold every blob for the write to count.</param>
    public async Task<StoredObject> WriteAsync(Stream body, long lengthBytes, IReadOnlyList<string> ranked, int wanted, int minimum, bool hashSha256, CancellationToken token)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using IncrementalHash? sha256 = hashSha256 ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        var upload = new Upload(ranked, wanted);
        var blobs = ImmutableArray.CreateBuilder<BlobRef>();
        byte[]? current = null;
        byte[]? next = null;
        try
        {
            long done = 0;
            int take = (int)Math.Min(chunkBytes, lengthBytes);
            current = ArrayPool<byte>.Shared.Rent(Math.Max(take, 1));
            await ReadChunkAsync(body, current.AsMemory(0, take), done, lengthBytes, token).ConfigureAwait(false);
            while (take > 0 && current is not null)
            {
                var blob = new BlobRef(BlobId.NewRandom().Value, take, Crc32C.Compute(current.AsSpan(0, take)));
                blobs.Add(blob);
                Task storing = StoreChunkAsync(upload, blob, current.AsMemory(0, take), first: done == 0, minimum, token);
                // The digests are not needed until the end: for a large chunk they run beside its transfer
                // and the next chunk's read, on another core, instead of in front of them (MD5 alone is about
                // 1.4 ms a MiB here, several on a Pi); a small one is hashed at once (cheaper than a thread hop).
                Task hashing = HashAsync(md5, sha256, current, take);
                done += take;
                int nextTake = (int)Math.Min(chunkBytes, lengthBytes - done);
                try
                {
                    if (nextTake > 0)
                    {
                        next = ArrayPool<byte>.Shared.Rent(nextTake);
                        await ReadChunkAsync(body, next.AsMemory(0, nextTake), done, lengthBytes, token).ConfigureAwait(false);
                    }
                }
                finally
                {
                    // The chunk in flight uses `current`: it must be stored and hashed before that buffer goes
                    // back to the pool (and hashed before the next chunk is).
                    await storing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    await hashing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                await storing.ConfigureAwait(false);
                await hashing.ConfigureAwait(false);
                ArrayPool<byte>.Shared.Return(current);
                (current, next, take) = (next, null, nextTake);
            }

            await ExpectEndAsync(body, lengthBytes, token).ConfigureAwait(false);
            return new StoredObject(lengthBytes, md5.GetHashAndReset(), sha256?.GetHashAndReset(), blobs.ToImmutable(), [.. upload.Holders]);
        }
        catch
        {
            _ = DiscardAsync(upload.Stored);
            throw;
        }
        finally
        {
            if (current is not null)
            {
                ArrayPool<byte>.Shared.Return(current);
            }

            if (next is not null)
            {
                ArrayPool<byte>.Shared.Return(next);
            }
        }
    }

    /// <summary>
    /// Reads a small body whole (exactly <paramref name="lengthBytes"/>) and hashes it, storing nothing: the
    /// commit carries it to <paramref name="replicas"/> (PutInline), one Raft round instead of a blob transfer
    /// to each replica before it.
    /// </summary>
    public static async Task<StoredObject> ReadInlineAsync(Stream body, long lengthBytes, IReadOnlyList<string> replicas, bool hashSha256, CancellationToken token)
    {
        byte[] content = new byte[lengthBytes]; // not pooled: the entry holds it until every replica has stored it
        await ReadChunkAsync(body, content, 0, lengthBytes, token).ConfigureAwait(false);
        await ExpectEndAsync(body, lengthBytes, token).ConfigureAwait(false);
        var blob = new BlobRef(BlobId.NewRandom().Value, lengthBytes, Crc32C.Compute(content));
        return new StoredObject(lengthBytes, MD5.HashData(content), hashSha256 ? SHA256.HashData(content) : null, [blob], [.. replicas], content);
    }

    /// <summary>Chunks at least this large are hashed on another thread: below it, handing the work over costs more than it saves.</summary>
    public const int HashBesideBytes = 256 * 1024;

    private static Task HashAsync(IncrementalHash md5, IncrementalHash? sha256, byte[] chunk, int length)
    {
        if (length < HashBesideBytes)
        {
            Hash();
            return Task.CompletedTask;
        }

        return Task.Run(Hash);

        void Hash()
        {
            md5.AppendData(chunk, 0, length);
            sha256?.AppendData(chunk, 0, length);
        }
    }

    /// <summary>Deletes an object's blobs from its replicas, best effort: for a write whose commit failed or was refused.</summary>
    public Task DiscardAsync(StoredObject stored) =>
        DiscardAsync([.. stored.Replicas.SelectMany(node => stored.Blobs.Select(blob => (node, new BlobId(blob.BlobId))))]);

    private async Task DiscardAsync(IReadOnlyCollection<(string Node, BlobId Id)> stored)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach ((string node, BlobId id) in stored)
        {
            try
            {
                await replicas.DeleteAsync(node, id, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Best effort (the node may be down or stopping): the orphan collector there reclaims it later.
            }
        }
    }

    private async Task StoreChunkAsync(Upload upload, BlobRef blob, ReadOnlyMemory<byte> content, bool first, int minimum, CancellationToken token)
    {
        var id = new BlobId(blob.BlobId);
        string[] holders = [.. upload.Holders];
        // Each call becomes a task even if it throws at once, so one failure never hides the others' outcome.
        Task[] stores = [.. holders.Select(async node => await replicas.StoreAsync(node, id, content, blob.Crc32C, token).ConfigureAwait(false))];
        await Task.WhenAll(stores).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        token.ThrowIfCancellationRequested();
        for (int i = 0; i < holders.Length; i++)
        {
            if (stores[i].IsCompletedSuccessfully)
            {
                upload.Stored.Add((holders[i], id));
            }
            else
            {
                upload.Fail(holders[i], stores[i].Exception?.InnerException);
            }
        }

        // Only the first chunk may bring in a substitute: a later one would lack the chunks before it.
        while (first && upload.Holders.Count < upload.Wanted && upload.TryNextCandidate(out string? substitute))
        {
            try
            {
                await replicas.StoreAsync(substitute, id, content, blob.Crc32C, token).ConfigureAwait(false);
                upload.Holders.Add(substitute);
                upload.Stored.Add((substitute, id));
            }
            catch (ReplicaException e)
            {
                upload.Fail(substitute, e);
            }
        }

        if (upload.Holders.Count < minimum)
        {
            throw new ReplicationException(
                $"only {upload.Holders.Count} of the {minimum} replicas a write needs could store it ({string.Join("; ", upload.Failures)})",
                upload.AnyFull);
        }
    }

    private static async Task ReadChunkAsync(Stream body, Memory<byte> chunk, long done, long lengthBytes, CancellationToken token)
    {
        int read = await body.ReadAtLeastAsync(chunk, chunk.Length, throwOnEndOfStream: false, token).ConfigureAwait(false);
        if (read < chunk.Length)
        {
            throw new IncompleteBodyException($"the body ended after {done + read} of its {lengthBytes} declared bytes");
        }
    }

    /// <summary>Reads past the declared length: the body must end there (an aws-chunked body checks its final signature on this read).</summary>
    private static async Task ExpectEndAsync(Stream body, long lengthBytes, CancellationToken token)
    {
        byte[] probe = new byte[1];
        if (await body.ReadAsync(probe, token).ConfigureAwait(false) != 0)
        {
            throw new IncompleteBodyException($"the body holds more than its {lengthBytes} declared bytes");
        }
    }

    /// <summary>One write's replica bookkeeping.</summary>
    private sealed class Upload(IReadOnlyList<string> ranked, int wanted)
    {
        private int _nextCandidate = Math.Min(wanted, ranked.Count);

        public int Wanted { get; } = wanted;

        public List<string> Holders { get; } = [.. ranked.Take(wanted)];

        public List<(string Node, BlobId Id)> Stored { get; } = [];

        public List<string> Failures { get; } = [];

        public bool AnyFull { get; private set; }

        public void Fail(string node, Exception? error)
        {
            Holders.Remove(node);
            Failures.Add($"{node}: {error?.Message ?? "failed"}");
            AnyFull |= error is ReplicaException { Full: true };
        }

        public bool TryNextCandidate(out string node)
        {
            node = _nextCandidate < ranked.Count ? ranked[_nextCandidate++] : string.Empty;
            return node.Length > 0;
        }
    }
}
