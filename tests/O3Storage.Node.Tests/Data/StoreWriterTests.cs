using O3Storage.Node.Data;
using O3Storage.Storage;
using O3Storage.Storage.Devices;

namespace O3Storage.Node.Tests.Data;

public sealed class StoreWriterTests
{
    [Fact]
    public async Task SmallPutsQueuedBehindABusyDevice_GoInBatches_InQueueOrder()
    {
        var device = new GatedDevice(64L << 20);
        var options = new BlobStoreOptions { SegmentSizeBytes = 8 << 20, DataStartBytes = 1 << 20 };
        using BlobStore store = BlobStore.Format(device, Guid.NewGuid(), Guid.NewGuid(), options);
        using var writer = new StoreWriter(store);
        int before = device.Writes;
        device.Gate.Reset(); // the writer thread's first write waits here while everything else queues

        var puts = new List<Task<BlobInfo>>();
        for (int i = 1; i <= 100; i++)
        {
            puts.Add(writer.PutAsync(new BlobId((UInt128)i), new byte[1000 + i]));
        }

        Task<bool> deleted = writer.DeleteAsync(new BlobId(50)); // queued after the put of 50: must see it
        Task<BlobInfo> again = writer.PutAsync(new BlobId(50), new byte[7]);
        device.Gate.Set();
        await Task.WhenAll(puts);

        Assert.True(await deleted);
        Assert.Equal(7, (await again).LengthBytes);
        Assert.Equal(100, store.Stats().TotalObjects);
        Assert.Equal(1001 + 99, store.ReadAll(new BlobId(100)).Length);
        Assert.True(device.Writes - before < 50, $"{device.Writes - before} device writes for 102 puts: small puts were not batched");
    }
}
