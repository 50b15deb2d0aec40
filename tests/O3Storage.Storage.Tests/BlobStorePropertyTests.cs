using O3Storage.Storage.Devices;
using Xunit.Abstractions;
using static O3Storage.Storage.Tests.StoreFixtures;

namespace O3Storage.Storage.Tests;

/// <summary>Random operation sequences against an in-memory model; a failure names its seed.</summary>
public sealed class BlobStorePropertyTests(ITestOutputHelper output)
{
    public static TheoryData<int> Seeds => new() { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomOperations_MatchTheModel_AcrossRestarts(int seed) => Run(seed, ids: 30, steps: 400, operations: 12);

    /// <summary>Few ids rewritten and deleted over and over, compacted only by background steps (which
    /// pick the emptiest segment, not the oldest): old versions linger behind tombstones, so a compaction
    /// that forgets one of them resurrects a deleted blob after a restart.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void FewIdsRewrittenOften_NeverResurrectAnOldVersion(int seed) => Run(seed + 1000, ids: 5, steps: 3000, operations: 11);

    private void Run(int seed, int ids, int steps, int operations)
    {
        var random = new Random(seed);
        var device = new MemoryBlockDevice(DeviceBytes(12));
        var model = new Dictionary<BlobId, byte[]>();
        BlobStore store = FormatSmall(device);
        int step = 0;
        try
        {
            for (step = 0; step < steps; step++)
            {
                BlobId id = Id(random.Next(1, ids + 1));
                switch (random.Next(operations))
                {
                    case < 5:
                        byte[] data = Bytes(random, random.Next(10) == 0 ? random.Next(20_000, 50_000) : random.Next(0, 6000));
                        try
                        {
                            store.Put(id, data);
                            model[id] = data;
                        }
                        catch (StorageFullException)
                        {
                            // Full even after inline compaction: the model is unchanged, and so must the store be.
                        }

                        break;
                    case < 7:
                        Assert.Equal(model.Remove(id), store.Delete(id));
                        break;
                    case < 9:
                        if (model.TryGetValue(id, out byte[]? expected))
                        {
                            Assert.Equal(expected, store.ReadAll(id));
                        }
                        else
                        {
                            Assert.False(store.TryStat(id, out _));
                        }

                        break;
                    case 9:
                        store.Dispose();
                        store = BlobStore.Open(device);
                        break;
                    case 10:
                        // Background compaction, a few bounded steps: puts and deletes interleave with it.
                        for (int i = random.Next(1, 4); i > 0 && !store.CompactStep(random.Next(1, 40_000)).Idle; i--)
                        {
                        }

                        break;
                    default:
                        store.Compact(all: random.Next(2) == 0);
                        break;
                }

                Assert.Equal(model.Count, store.Stats().TotalObjects);
            }

            store.Dispose();
            store = BlobStore.Open(device);
            Assert.Equal(model.Keys.Order(), store.List().Select(b => b.Id).Order());
            foreach ((BlobId id, byte[] data) in model)
            {
                Assert.Equal(data, store.ReadAll(id));
            }
        }
        catch
        {
            output.WriteLine($"seed {seed} failed at step {step}; replay with [InlineData({seed})]");
            throw;
        }
        finally
        {
            store.Dispose();
        }
    }
}
