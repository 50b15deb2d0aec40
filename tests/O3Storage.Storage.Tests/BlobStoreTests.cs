using O3Storage.Storage.Devices;
using static O3Storage.Storage.Tests.StoreFixtures;

namespace O3Storage.Storage.Tests;

public sealed class BlobStoreTests
{
    private readonly Random _random = new(7);

    [Fact]
    public void Put_Get_Stat_List_Delete_RoundTrip()
    {
        var device = new MemoryBlockDevice(DeviceBytes(8));
        using BlobStore store = FormatSmall(device);
        byte[] small = Bytes(_random, 100);
        byte[] spanning = Bytes(_random, 40_000); // header block plus several 16 KiB chunks
        byte[] empty = [];

        store.Put(Id(1), small);
        BlobInfo info = store.Put(Id(2), spanning);
        store.Put(Id(3), empty);

        Assert.Equal(small, store.ReadAll(Id(1)));
        Assert.Equal(spanning, store.ReadAll(Id(2)));
        Assert.Empty(store.ReadAll(Id(3)));
        Assert.True(store.TryStat(Id(2), out BlobInfo? stat));
        Assert.Equal(info, stat);
        Assert.Equal(40_000, stat!.LengthBytes);
        Assert.Equal([Id(1), Id(2), Id(3)], store.List().Select(b => b.Id).Order());
        Assert.Equal(3, store.Stats().TotalObjects);

        Assert.True(store.Delete(Id(2)));
        Assert.False(store.Delete(Id(2)));
        Assert.False(store.TryStat(Id(2), out _));
        Assert.Throws<BlobNotFoundException>(() => store.OpenRead(Id(2)));
        Assert.Equal(2, store.Stats().TotalObjects);
    }

    [Fact]
    public void Put_SameIdTwice_LatestWinsAndSurvivesReopen()
    {
        var device = new MemoryBlockDevice(DeviceBytes(8));
        byte[] second = Bytes(_random, 5000);
        using (BlobStore store = FormatSmall(device))
        {
            store.Put(Id(1), Bytes(_random, 3000));
            store.Put(Id(1), second);
            Assert.Equal(second, store.ReadAll(Id(1)));
        }

        using BlobStore reopened = BlobStore.Open(device);
        Assert.Equal(second, reopened.ReadAll(Id(1)));
        Assert.Single(reopened.List());
    }

    [Fact]
    public void Reopen_AfterManySegments_RecoversEveryBlobAndDeletion()
    {
        var device = new MemoryBlockDevice(DeviceBytes(16));
        var expected = new Dictionary<BlobId, byte[]>();
        using (BlobStore store = FormatSmall(device))
        {
            for (int i = 1; i <= 40; i++)
            {
                expected[Id(i)] = Bytes(_random, _random.Next(0, 20_000));
                store.Put(Id(i), expected[Id(i)]);
                if (i % 5 == 0)
                {
                    store.Delete(Id(i - 2));
                    expected.Remove(Id(i - 2));
                }
            }
        }

        using BlobStore reopened = BlobStore.Open(device);
        Assert.Equal(expected.Keys.Order(), reopened.List().Select(b => b.Id).Order());
        foreach ((BlobId id, byte[] data) in expected)
        {
            Assert.Equal(data, reopened.ReadAll(id));
        }

        Assert.Equal(0, reopened.DamagedRecords);
        // Writes continue after a reopen and survive the next one.
        reopened.Put(Id(999), [1, 2, 3]);
        reopened.Dispose();
        using BlobStore third = BlobStore.Open(device);
        Assert.Equal([1, 2, 3], third.ReadAll(Id(999)));
    }

    [Fact]
    public void Put_ShortStream_StoresNothingAndTheNextPutUsesTheSpace()
    {
        var device = new MemoryBlockDevice(DeviceBytes(4));
        using BlobStore store = FormatSmall(device);
        using var shortStream = new MemoryStream(new byte[10_000]);

        var error = Assert.Throws<EndOfStreamException>(() => store.Put(Id(1), shortStream, 20_000));

        Assert.Contains("content ended after 10000 of 20000 bytes", error.Message);
        Assert.False(store.TryStat(Id(1), out _));
        byte[] next = Bytes(_random, 1000);
        store.Put(Id(2), next);
        store.Dispose();
        using BlobStore reopened = BlobStore.Open(device);
        Assert.Equal([Id(2)], reopened.List().Select(b => b.Id));
        Assert.Equal(next, reopened.ReadAll(Id(2)));
    }

    [Fact]
    public void Put_WhenFull_ThrowsStorageFullAndKeepsEverythingStored()
    {
        var device = new MemoryBlockDevice(DeviceBytes(2));
        using BlobStore store = FormatSmall(device);
        var stored = new Dictionary<BlobId, byte[]>();
        StorageFullException? full = null;
        for (int i = 1; i < 100 && full is null; i++)
        {
            byte[] data = Bytes(_random, 20_000);
            try
            {
                store.Put(Id(i), data);
                stored[Id(i)] = data;
            }
            catch (StorageFullException e)
            {
                full = e;
            }
        }

        Assert.NotNull(full);
        Assert.Contains("no free segment", full!.Message);
        foreach ((BlobId id, byte[] data) in stored)
        {
            Assert.Equal(data, store.ReadAll(id));
        }

        store.Dispose();
        using BlobStore reopened = BlobStore.Open(device);
        Assert.Equal(stored.Count, reopened.List().Count);
    }

    [Fact]
    public void Put_BlobLargerThanASegmentCanHold_IsRefusedUpFront()
    {
        using BlobStore store = FormatSmall(new MemoryBlockDevice(DeviceBytes(4)));
        long max = store.BlobSizeBytesMax;
        store.Put(Id(1), new MemoryStream(new byte[max]), max);
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Put(Id(2), new MemoryStream(new byte[max + 1]), max + 1));
        Assert.Throws<ArgumentException>(() => store.Put(new BlobId(0), [1]));
    }

    [Fact]
    public void Stats_CountLiveBlocksAndFreeSpace()
    {
        using BlobStore store = FormatSmall(new MemoryBlockDevice(DeviceBytes(4)));
        StorageStats before = store.Stats();
        Assert.Equal(4 * 64 * 1024, before.CapacityBytes);
        Assert.Equal(3 * 64 * 1024, before.FreeSpaceBytes); // one segment is reserved for deletes and compaction

        store.Put(Id(1), new byte[5000]); // 64 + 5000 bytes: two 4 KiB blocks
        StorageStats after = store.Stats();
        Assert.Equal(8192, after.UsedSpaceBytes);
        Assert.Equal(1, after.TotalObjects);
        Assert.True(after.FreeSpaceBytes < before.FreeSpaceBytes);
        Assert.False(after.DirectIo);
    }

    [Fact]
    public void DeletedSpace_IsReclaimedByCompaction_AndDeletedBlobsStayDeletedAfterReopen()
    {
        var device = new MemoryBlockDevice(DeviceBytes(4));
        using (BlobStore store = FormatSmall(device))
        {
            // Many rounds of 20 KiB blobs through a device that holds only a few at once.
            for (int round = 0; round < 30; round++)
            {
                store.Put(Id(round), Bytes(_random, 20_000));
                if (round >= 2)
                {
                    Assert.True(store.Delete(Id(round - 2)));
                }
            }

            Assert.Equal(2, store.Stats().TotalObjects);
        }

        using BlobStore reopened = BlobStore.Open(device);
        Assert.Equal([Id(28), Id(29)], reopened.List().Select(b => b.Id).Order());
        Assert.Equal(0, reopened.DamagedRecords);
    }

    [Fact]
    public void FullOfLiveData_DeleteStillWorks_ThenPutsFitAgain()
    {
        var device = new MemoryBlockDevice(DeviceBytes(3));
        using BlobStore store = FormatSmall(device);
        int stored = 0;
        try
        {
            while (true)
            {
                store.Put(Id(++stored), Bytes(_random, 12_000));
            }
        }
        catch (StorageFullException)
        {
            stored--;
        }

        for (int n = 1; n <= stored; n++)
        {
            Assert.True(store.Delete(Id(n)));
        }

        store.Put(Id(1000), Bytes(_random, 12_000));
        store.Put(Id(1001), Bytes(_random, 12_000));
        Assert.Equal(2, store.Stats().TotalObjects);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Churn_AroundLongLivedBlobs_NeverFillsWhileLiveDataIsSmall(int seed)
    {
        var random = new Random(seed);
        var device = new MemoryBlockDevice(DeviceBytes(8));
        using BlobStore store = FormatSmall(device);
        var longLived = new Dictionary<BlobId, byte[]>();
        for (int i = 0; i < 4; i++)
        {
            longLived[Id(10_000 + i)] = Bytes(random, 30_000);
            store.Put(Id(10_000 + i), longLived[Id(10_000 + i)]);
        }

        // Unique ids, each deleted soon after: the device sees hundreds of segments' worth of writes.
        var recent = new Queue<BlobId>();
        for (int i = 0; i < 3000; i++)
        {
            store.Put(Id(i), Bytes(random, random.Next(0, 12_000)));
            recent.Enqueue(Id(i));
            if (recent.Count > random.Next(0, 4))
            {
                Assert.True(store.Delete(recent.Dequeue()));
            }
        }

        foreach ((BlobId id, byte[] data) in longLived)
        {
            Assert.Equal(data, store.ReadAll(id));
        }

        store.Dispose();
        using BlobStore reopened = BlobStore.Open(device);
        Assert.Equal(longLived.Count + recent.Count, reopened.List().Count);
    }

    [Fact]
    public void Verify_NamesDamagedBlobs_AndCompactAll_ReclaimsDeletedSpace()
    {
        var device = new MemoryBlockDevice(DeviceBytes(8));
        using BlobStore store = FormatSmall(device);
        for (int i = 0; i < 12; i++)
        {
            store.Put(Id(i), Bytes(_random, 10_000));
        }

        for (int i = 0; i < 10; i++)
        {
            store.Delete(Id(i));
        }

        Assert.Empty(store.Verify());
        Assert.True(store.Compact(all: true) > 0);
        Assert.Equal(2, store.List().Count);
        Assert.Empty(store.Verify());

        // Damage the payload of one remaining blob where it now lives.
        long used = store.Stats().UsedSpaceBytes;
        Assert.Equal(2 * 12_288, used);
        byte[] image = device.Content;
        int flipped = 0;
        for (int offset = 0; offset < image.Length && flipped == 0; offset += 4096)
        {
            // The record header's blob id sits at offset 16 of its block; flip a payload byte after it.
            if (BitConverter.ToUInt64(image, offset + 24) == 11 && BitConverter.ToUInt64(image, offset + 16) == 0xABCD)
            {
                image[offset + 5000] ^= 0xFF;
                flipped++;
            }
        }

        Assert.Equal(1, flipped);
        var problems = store.Verify();
        Assert.Equal([Id(11)], problems.Select(p => p.Id));
    }
}
