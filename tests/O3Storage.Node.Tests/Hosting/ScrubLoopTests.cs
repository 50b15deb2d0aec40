using Microsoft.Extensions.Logging.Abstractions;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Data;
using O3Storage.Node.Hosting;
using O3Storage.Storage;
using O3Storage.Storage.Devices;

namespace O3Storage.Node.Tests.Hosting;

/// <summary>A scrub pass reads back every blob metadata says this node holds and reports what is missing or damaged.</summary>
public sealed class ScrubLoopTests
{
    private const string Self = "127.0.0.1:8080";
    private const string Other = "127.0.0.2:8080";

    private sealed class Fixture : IDisposable
    {
        public MemoryBlockDevice Device { get; } = new(64L << 20);

        public BlobStore Store { get; }

        public StoreWriter Writer { get; }

        public List<(string Bucket, string Key, BadReplica Bad)> Reports { get; } = [];

        public ScrubProgress Progress { get; } = new();

        public MetadataState State { get; set; } = MetadataState.Empty.Apply(new CreateBucket("b", 1), 1);

        public Fixture()
        {
            Store = BlobStore.Format(Device, Guid.NewGuid(), Guid.NewGuid(), new BlobStoreOptions { SegmentSizeBytes = 8 << 20, DataStartBytes = 1 << 20 });
            Writer = new StoreWriter(Store);
        }

        /// <summary>Stores <paramref name="content"/> here and commits an object naming it, held by <paramref name="replicas"/>.</summary>
        public async Task<BlobRef> PutAsync(string key, byte[] content, params string[] replicas)
        {
            BlobId id = BlobId.NewRandom();
            BlobInfo info = await Writer.PutAsync(id, content);
            var blob = new BlobRef(id.Value, info.LengthBytes, info.Crc32C);
            State = State.Apply(new PutObject("b", new ObjectVersion(key, 0, content.Length, "\"e\"", "t", 0, [], [blob], [.. replicas])), State.LastAppliedIndex + 1);
            return blob;
        }

        public ScrubLoop Loop(long bytesPerSecond = 1L << 30) =>
            new(Self, () => State, Store, (bucket, key, bad) => Reports.Add((bucket, key, bad)), Progress, bytesPerSecond, TimeSpan.FromHours(1), TimeProvider.System, NullLogger.Instance);

        public void Dispose()
        {
            Writer.Dispose();
            Store.Dispose();
        }
    }

    private static byte[] Pattern(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Fact]
    public async Task AHealthyStore_PassesClean_AndProgressCountsEveryBlob()
    {
        using var f = new Fixture();
        await f.PutAsync("one", Pattern(10_000, 1), Self, Other);
        await f.PutAsync("two", Pattern(70_000, 2), Self);
        await f.PutAsync("elsewhere", Pattern(5_000, 3), Other); // not this node's: not read

        Assert.Equal(0, await f.Loop().PassAsync(CancellationToken.None));
        Assert.Empty(f.Reports);
        var health = f.Progress.Snapshot();
        Assert.Equal((1L, 2L, 80_000L, 0L), (health.Passes, health.CheckedBlobs, health.CheckedBytes, health.BadFound));
        Assert.NotNull(health.LastPassCompletedAt);
    }

    [Fact]
    public async Task BytesFlippedOnTheDevice_AreFound_AndReportedForRepair()
    {
        using var f = new Fixture();
        byte[] content = Pattern(50_000, 7);
        BlobRef blob = await f.PutAsync("victim", content, Self, Other);
        await f.PutAsync("bystander", Pattern(20_000, 8), Self, Other);

        // Rot under the running store: one byte in the middle of the blob's bytes on the device.
        int at = f.Device.Content.AsSpan().IndexOf(content.AsSpan(20_000, 64));
        Assert.True(at > 0, "the blob's bytes are on the device as written");
        f.Device.Content[at + 10] ^= 0xFF;

        ScrubLoop loop = f.Loop();
        Assert.Equal(1, await loop.PassAsync(CancellationToken.None));
        Assert.Equal(0, await loop.PassAsync(CancellationToken.None)); // still bad, but repair has it: not handed over twice
        (string bucket, string key, BadReplica bad) = Assert.Single(f.Reports);
        Assert.Equal(("b", "victim", Self, blob), (bucket, key, bad.NodeId, bad.Blob));
        Assert.StartsWith("scrub: ", bad.Problem, StringComparison.Ordinal);
        Assert.Equal(1, f.Progress.Snapshot().BadFound);
    }

    [Fact]
    public async Task ABlobGoneFromTheStore_IsReported_ButOneMetadataNoLongerGivesThisNode_IsNot()
    {
        using var f = new Fixture();
        BlobRef gone = await f.PutAsync("gone", Pattern(4_000, 11), Self, Other);
        BlobRef moved = await f.PutAsync("moved", Pattern(4_000, 12), Self, Other);
        await f.Writer.DeleteAsync(new BlobId(gone.BlobId));
        await f.Writer.DeleteAsync(new BlobId(moved.BlobId));

        // "moved" leaves this node while the pass runs (its replica set changes before the blob is checked).
        MetadataState before = f.State;
        ObjectVersion version = before.FindObject("b", "moved")!;
        MetadataState after = before.Apply(new SetReplicas("b", "moved", version.VersionIndex, [Other]), before.LastAppliedIndex + 1);
        int calls = 0;
        var racing = new ScrubLoop(Self, () => calls++ == 0 ? before : after, f.Store, (b, k, bad) => f.Reports.Add((b, k, bad)), f.Progress, 1L << 30, TimeSpan.FromHours(1), TimeProvider.System, NullLogger.Instance);

        Assert.Equal(1, await racing.PassAsync(CancellationToken.None));
        (_, string key, BadReplica bad) = Assert.Single(f.Reports);
        Assert.Equal("gone", key);
        Assert.Contains("missing", bad.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APass_IsPacedByItsRate()
    {
        using var f = new Fixture();
        for (int i = 0; i < 4; i++)
        {
            await f.PutAsync($"k{i}", Pattern(100_000, 20 + i), Self);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await f.Loop(bytesPerSecond: 1_000_000).PassAsync(CancellationToken.None); // 400 KB at 1 MB/s: about 0.3 s after the first blob
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(250), $"a 1 MB/s pass over 400 KB took {clock.Elapsed.TotalMilliseconds} ms");
    }
}
