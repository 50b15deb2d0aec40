using Microsoft.Extensions.Logging.Abstractions;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Data;
using O3Storage.Node.Hosting;
using O3Storage.Storage;
using O3Storage.Storage.Devices;

namespace O3Storage.Node.Tests.Hosting;

/// <summary>The collector deletes a blob only once the leader confirmed the metadata that says nothing refers to it.</summary>
public sealed class GarbageCollectorLoopTests
{
    private const string Self = "127.0.0.1:8080";

    private sealed class Clock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly MetadataState s_noObjects = MetadataState.Empty.Apply(new AddMember(Self, "127.0.0.1:8090", Guid.NewGuid()), 1);

    /// <summary>A store holding one 3-byte blob that no metadata names yet, its writer, and a clock the test moves.</summary>
    private static async Task<(BlobStore Store, StoreWriter Writer, BlobId Blob, Clock Clock)> OneBlobAsync()
    {
        BlobStore store = BlobStore.Format(new MemoryBlockDevice(64L << 20), Guid.NewGuid(), Guid.NewGuid(), new BlobStoreOptions { SegmentSizeBytes = 8 << 20, DataStartBytes = 1 << 20 });
        var writer = new StoreWriter(store);
        BlobId blob = BlobId.NewRandom();
        await writer.PutAsync(blob, new byte[] { 1, 2, 3 });
        return (store, writer, blob, new Clock(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public async Task AnOrphanPastItsGrace_IsKeptWhileNoLeaderConfirmsTheMetadata_ThenDeleted()
    {
        (BlobStore store, StoreWriter writer, BlobId orphan, Clock clock) = await OneBlobAsync();
        using (store)
        using (writer)
        {
            bool leaderAnswers = false;
            var loop = new GarbageCollectorLoop(Self, () => s_noObjects, _ => leaderAnswers ? Task.CompletedTask : Task.FromException(new TimeoutException("no leader")), writer, TimeSpan.FromMinutes(1), clock, NullLogger.Instance);

            Assert.Equal(0, await loop.RoundAsync(CancellationToken.None)); // first seen: its grace starts
            clock.Now += TimeSpan.FromMinutes(2);
            Assert.Equal(0, await loop.RoundAsync(CancellationToken.None)); // cut off: the local metadata may be stale
            Assert.True(store.TryStat(orphan, out _));

            leaderAnswers = true;
            Assert.Equal(1, await loop.RoundAsync(CancellationToken.None));
            Assert.False(store.TryStat(orphan, out _));
        }
    }

    [Fact]
    public async Task ABlobWhoseCommitArrivesWithTheBarrier_IsKept()
    {
        (BlobStore store, StoreWriter writer, BlobId blob, Clock clock) = await OneBlobAsync();
        using (store)
        using (writer)
        {
            var named = new ObjectVersion("k", 0, 3, "\"e\"", "t", 0, [], [new BlobRef(blob.Value, 3, 0)], [Self]);
            MetadataState committed = s_noObjects.Apply(new CreateBucket("b", 1), 2).Apply(new PutObject("b", named), 3);
            MetadataState state = s_noObjects; // this node has not applied the commit yet
            var loop = new GarbageCollectorLoop(Self, () => state, _ => { state = committed; return Task.CompletedTask; }, writer, TimeSpan.FromMinutes(1), clock, NullLogger.Instance);

            Assert.Equal(0, await loop.RoundAsync(CancellationToken.None));
            clock.Now += TimeSpan.FromMinutes(2);
            Assert.Equal(0, await loop.RoundAsync(CancellationToken.None));
            Assert.True(store.TryStat(blob, out _));
        }
    }

    [Fact]
    public async Task ABlobACopyStillNames_IsKeptWhenItsSourceIsDeleted()
    {
        // The live set each round follows the changes, and a delete takes the source's blob out of it
        // though the copy (PutCopy shares the blobs) still names it: the confirmation walks every object.
        (BlobStore store, StoreWriter writer, BlobId blob, Clock clock) = await OneBlobAsync();
        using (store)
        using (writer)
        {
            ObjectVersion Named(string key) => new(key, 0, 3, "\"e\"", "t", 0, [], [new BlobRef(blob.Value, 3, 0)], [Self]);
            MetadataState state = s_noObjects.Apply(new CreateBucket("b", 1), 2).Apply(new PutObject("b", Named("source")), 3);
            state = state.Apply(new PutCopy("b", Named("copy"), "b", "source", 3), 4);
            var loop = new GarbageCollectorLoop(Self, () => state, _ => Task.CompletedTask, writer, TimeSpan.FromMinutes(1), clock, NullLogger.Instance);
            Assert.Equal(0, await loop.RoundAsync(CancellationToken.None));

            state = state.Apply(new DeleteObject("b", "source"), 5);
            for (int round = 0; round < 4; round++)
            {
                clock.Now += TimeSpan.FromMinutes(1);
                Assert.Equal(0, await loop.RoundAsync(CancellationToken.None));
            }

            Assert.True(store.TryStat(blob, out _));
        }
    }

    [Fact]
    public async Task ABlobCommittedAndDeletedBetweenTwoRounds_GoesAfterTheReleaseDelay_NotTheOrphanGrace()
    {
        // A backup tool's temporary object: stored, committed and deleted while no round looked. It was
        // an orphan at the last look (stored before its commit); the change chain says it was released.
        (BlobStore store, StoreWriter writer, BlobId blob, Clock clock) = await OneBlobAsync();
        using (store)
        using (writer)
        {
            MetadataState state = s_noObjects.Apply(new CreateBucket("b", 1), 2);
            var loop = new GarbageCollectorLoop(Self, () => state, _ => Task.CompletedTask, writer, TimeSpan.FromHours(1), clock, NullLogger.Instance);
            Assert.Equal(0, await loop.RoundAsync(CancellationToken.None)); // an upload streaming: an orphan, an hour's grace

            state = state.Apply(new PutObject("b", new ObjectVersion("tmp", 0, 3, "\"e\"", "t", 0, [], [new BlobRef(blob.Value, 3, 0)], [Self])), 3)
                .Apply(new DeleteObject("b", "tmp"), 4);
            clock.Now += TimeSpan.FromSeconds(1);
            Assert.Equal(0, await loop.RoundAsync(CancellationToken.None)); // released: the delay starts now
            clock.Now += GarbageCollectorLoop.ReleaseDelayMax;
            Assert.Equal(1, await loop.RoundAsync(CancellationToken.None));
            Assert.False(store.TryStat(blob, out _));
        }
    }

    [Fact]
    public async Task AnOverwriteBeforeTheFirstRound_ReleasesTheOldBlobAfterTheDelay()
    {
        // A node starts, and a client overwrites an object before the first round (30 s after the start):
        // the old version's blob must go after the release delay, not wait the orphan grace.
        (BlobStore store, StoreWriter writer, BlobId blob, Clock clock) = await OneBlobAsync();
        using (store)
        using (writer)
        {
            ObjectVersion Version(UInt128 id) => new("k", 0, 3, "\"e\"", "t", 0, [], [new BlobRef(id, 3, 0)], [Self]);
            MetadataState state = s_noObjects.Apply(new CreateBucket("b", 1), 2).Apply(new PutObject("b", Version(blob.Value)), 3);
            var loop = new GarbageCollectorLoop(Self, () => state, _ => Task.CompletedTask, writer, TimeSpan.FromHours(1), clock, NullLogger.Instance);
            loop.Start();
            state = state.Apply(new PutObject("b", Version(blob.Value + 1)), 4); // the overwrite, before any round

            clock.Now += GarbageCollectorLoop.ReleaseDelayMax;
            Assert.Equal(0, await loop.RoundAsync(CancellationToken.None)); // the first round: released, the delay starts
            clock.Now += GarbageCollectorLoop.ReleaseDelayMax;
            Assert.Equal(1, await loop.RoundAsync(CancellationToken.None));
            Assert.False(store.TryStat(blob, out _));
        }
    }

    [Fact]
    public async Task RoundsUnderWrites_FollowTheChanges_InsteadOfWalkingEveryObject()
    {
        (BlobStore store, StoreWriter writer, _, Clock clock) = await OneBlobAsync();
        using (store)
        using (writer)
        {
            MetadataState state = s_noObjects.Apply(new CreateBucket("b", 1), 2);
            var loop = new GarbageCollectorLoop(Self, () => state, _ => Task.CompletedTask, writer, TimeSpan.FromMinutes(1), clock, NullLogger.Instance);
            for (int round = 0; round < 5; round++)
            {
                state = state.Apply(new PutObject("b", new ObjectVersion($"k{round}", 0, 1, "\"e\"", "t", 0, [], [new BlobRef((UInt128)round + 10, 1, 0)], [Self])), round + 3);
                await loop.RoundAsync(CancellationToken.None);
            }

            Assert.Equal(1, loop.FullWalks);
        }
    }
}
