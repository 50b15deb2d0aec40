using O3Storage.Storage.Devices;
using static O3Storage.Storage.Tests.StoreFixtures;

namespace O3Storage.Storage.Tests;

/// <summary>Segment summaries (the per-segment index checkpoint) and background compaction.</summary>
public sealed class BlobStoreSummaryTests
{
    /// <summary>1 MiB segments: room for a few hundred small records each, so summaries span blocks.</summary>
    private static readonly BlobStoreOptions s_medium = new() { SegmentSizeBytes = 1024 * 1024, DataStartBytes = 16 * 1024, IoChunkBytes = 64 * 1024 };

    private readonly Random _random = new(5);

    private sealed class CountingDevice(byte[] content) : MemoryBlockDevice(content)
    {
        public long BytesRead { get; set; }

        public override void Read(long offsetBytes, Span<byte> destination)
        {
            BytesRead += destination.Length;
            base.Read(offsetBytes, destination);
        }
    }

    private Dictionary<BlobId, byte[]> FillMedium(MemoryBlockDevice device, int blobs)
    {
        var data = new Dictionary<BlobId, byte[]>();
        using BlobStore store = BlobStore.Format(device, Guid.NewGuid(), Guid.NewGuid(), s_medium);
        for (int i = 1; i <= blobs; i++)
        {
            data[Id(i)] = Bytes(_random, _random.Next(0, 300));
            store.Put(Id(i), data[Id(i)]);
            if (i % 7 == 0)
            {
                store.Delete(Id(i - 3));
                data.Remove(Id(i - 3));
            }
        }

        return data;
    }

    [Fact]
    public void Open_ReadsSealedSegmentsThroughTheirSummaries_NotRecordByRecord()
    {
        var device = new CountingDevice(new byte[s_medium.DataStartBytes + (8 * s_medium.SegmentSizeBytes)]);
        Dictionary<BlobId, byte[]> data = FillMedium(device, 800); // ~ 900 one-block records: 3 sealed segments and a head

        device.BytesRead = 0;
        using BlobStore store = BlobStore.Open(device);
        // Scanning would read the three sealed segments whole (3 MiB); their summaries are 11 blocks each.
        Assert.True(device.BytesRead < s_medium.SegmentSizeBytes + (64 * 1024 * 4), $"open read {device.BytesRead} bytes");
        Assert.Equal(data.Keys.Order(), store.List().Select(b => b.Id).Order());
        foreach ((BlobId id, byte[] bytes) in data)
        {
            Assert.Equal(bytes, store.ReadAll(id));
        }

        Assert.Equal(0, store.DamagedRecords);
    }

    [Fact]
    public void DamagedSummary_IsCountedAndTheSegmentIsScannedInstead()
    {
        var device = new MemoryBlockDevice(s_medium.DataStartBytes + (8 * s_medium.SegmentSizeBytes));
        Dictionary<BlobId, byte[]> data = FillMedium(device, 800);

        // The first segment's summary ends just before its seal, in the segment's last block.
        long summaryEnd = s_medium.DataStartBytes + s_medium.SegmentSizeBytes - 4096;
        device.Content[summaryEnd - 4096 + 100] ^= 0x40;

        using BlobStore store = BlobStore.Open(device);
        Assert.Equal(1, store.DamagedRecords);
        Assert.Equal(data.Keys.Order(), store.List().Select(b => b.Id).Order());
        foreach ((BlobId id, byte[] bytes) in data)
        {
            Assert.Equal(bytes, store.ReadAll(id));
        }
    }

    [Fact]
    public void BackgroundSteps_ReclaimMostlyDeletedSegments_AndKeepEveryLiveBlob()
    {
        var device = new MemoryBlockDevice(DeviceBytes(12));
        var live = new Dictionary<BlobId, byte[]>();
        using (BlobStore store = FormatSmall(device))
        {
            // 10 000-byte blobs take 3 blocks: four to a 16-block segment (with its start, summary and seal).
            for (int i = 0; i < 32; i++)
            {
                live[Id(i)] = Bytes(_random, 10_000);
                store.Put(Id(i), live[Id(i)]);
            }

            for (int i = 0; i < 32; i++)
            {
                if (i % 4 != 0)
                {
                    Assert.True(store.Delete(Id(i)));
                    live.Remove(Id(i));
                }
            }

            long freeBefore = FreeSegmentsOf(device);
            int freed = 0;
            int steps = 0;
            for (CompactionProgress step; !(step = store.CompactStep(8192)).Idle; steps++)
            {
                freed += step.SegmentFreed ? 1 : 0;
                Assert.True(steps < 200, "background compaction did not settle");

                // Writes go on between steps.
                store.Put(Id(1000 + steps), [1, 2, 3]);
                live[Id(1000 + steps)] = [1, 2, 3];
            }

            Assert.True(freed >= 5, $"freed {freed} segments in {steps} steps");
            Assert.True(FreeSegmentsOf(device) > freeBefore);
            foreach ((BlobId id, byte[] bytes) in live)
            {
                Assert.Equal(bytes, store.ReadAll(id));
            }
        }

        using BlobStore reopened = BlobStore.Open(device);
        Assert.Equal(live.Keys.Order(), reopened.List().Select(b => b.Id).Order());
        Assert.Equal(0, reopened.DamagedRecords);
    }

    [Fact]
    public void BackgroundSteps_LeaveSegmentsWhoseOnlySlackIsTheirTail()
    {
        var device = new RecordingBlockDevice(new byte[DeviceBytes(12)]);
        using BlobStore store = FormatSmall(device);
        // 25 000-byte blobs take 7 blocks: one to a segment, which leaves 6 blocks unused at its end.
        for (int i = 0; i < 6; i++)
        {
            store.Put(Id(i), Bytes(_random, 25_000));
        }

        int writes = device.Writes.Count;
        Assert.True(store.CompactStep(1 << 20).Idle);
        Assert.Equal(writes, device.Writes.Count);
    }

    /// <summary>Segments whose start block is blank, as recovery sees them.</summary>
    private static int FreeSegmentsOf(MemoryBlockDevice device)
    {
        int free = 0;
        for (long offset = Small.DataStartBytes; offset < device.CapacityBytes; offset += Small.SegmentSizeBytes)
        {
            free += device.Content.AsSpan((int)offset, 4096).ContainsAnyExcept((byte)0) ? 0 : 1;
        }

        return free;
    }
}
