using Microsoft.Extensions.Logging.Abstractions;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Data;
using O3Storage.Storage;
using O3Storage.Storage.Devices;
using O3Storage.Storage.Format;

namespace O3Storage.Node.Tests.Data;

/// <summary>A node's side of small objects carried in Raft entries: stored when applied, readable before the store has them, durable before a snapshot.</summary>
public sealed class InlineBlobsTests : IDisposable
{
    private const string Self = "127.0.0.1:8080";
    private readonly GatedDevice _device = new(64L << 20);
    private readonly BlobStore _store;
    private readonly StoreWriter _writer;
    private readonly InlineBlobs _inline;

    public InlineBlobsTests()
    {
        _store = BlobStore.Format(_device, Guid.NewGuid(), Guid.NewGuid(), new BlobStoreOptions { SegmentSizeBytes = 8 << 20, DataStartBytes = 1 << 20 });
        _writer = new StoreWriter(_store);
        _inline = new InlineBlobs(Self, _writer, NullLogger.Instance);
    }

    [Fact]
    public async Task AnAppliedContent_IsReadableAtOnce_AndDurableInTheStoreWhenTheBarrierPasses()
    {
        (PutInline put, BlobId id) = Put(4096, [Self, "127.0.0.2:8080"]);
        _device.Gate.Reset(); // the store is busy: the write waits
        await _inline.AppliedAsync(put, CancellationToken.None);
        Assert.True(_inline.IsPending(id));
        using (var pending = new MemoryStream())
        {
            _inline.OpenRead(id).CopyTo(pending); // the store does not have it yet: this is the copy in memory
            Assert.Equal(put.Content.ToArray(), pending.ToArray());
        }
        Task durable = _inline.DurableAsync(CancellationToken.None);
        await Task.Delay(50);
        Assert.False(durable.IsCompleted); // a snapshot would wait here: the log still holds the only durable copy

        _device.Gate.Set();
        await durable;
        Assert.Equal(put.Content.ToArray(), _store.ReadAll(id));
        // The memory copy goes in the write's own continuation, which may run just after the barrier's.
        for (int wait = 0; wait < 500 && _inline.IsPending(id); wait++)
        {
            await Task.Delay(10);
        }

        Assert.False(_inline.IsPending(id));
    }

    [Fact]
    public async Task AReplayedEntry_IsNotWrittenAgain()
    {
        (PutInline put, BlobId id) = Put(100, [Self]);
        await _inline.AppliedAsync(put, CancellationToken.None);
        await _inline.DurableAsync(CancellationToken.None);
        ulong sequence = _store.List().Single(b => b.Id == id).Sequence;
        int writes = _device.Writes;

        await _inline.AppliedAsync(put, CancellationToken.None); // a restart applies the entries after the last snapshot again
        await _inline.DurableAsync(CancellationToken.None);
        Assert.Equal(writes, _device.Writes);
        Assert.Equal(sequence, _store.List().Single(b => b.Id == id).Sequence);
    }

    [Fact]
    public async Task AContentForOtherReplicas_OrNotMatchingItsBlob_IsNotStored()
    {
        (PutInline elsewhere, BlobId elsewhereId) = Put(100, ["127.0.0.2:8080", "127.0.0.3:8080"]);
        (PutInline damaged, BlobId damagedId) = Put(100, [Self]);
        damaged = damaged with { Content = new byte[100] };
        await _inline.AppliedAsync(elsewhere, CancellationToken.None);
        await _inline.AppliedAsync(damaged, CancellationToken.None);
        await _inline.DurableAsync(CancellationToken.None);
        Assert.False(_store.TryStat(elsewhereId, out _));
        Assert.False(_store.TryStat(damagedId, out _)); // missing here: the scrub finds it, repair copies a good replica
    }

    public void Dispose()
    {
        _device.Gate.Set();
        _writer.Dispose();
        _store.Dispose();
    }

    private static (PutInline Put, BlobId Id) Put(int length, string[] replicas)
    {
        byte[] content = [.. Enumerable.Range(0, length).Select(i => (byte)(i * 7))];
        BlobId id = BlobId.NewRandom();
        var version = new ObjectVersion("k", 0, length, "\"e\"", "t", 1, [], [new BlobRef(id.Value, length, Crc32C.Compute(content))], [.. replicas]);
        return (new PutInline("b", version, content), id);
    }
}
