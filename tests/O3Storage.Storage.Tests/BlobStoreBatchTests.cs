using O3Storage.Storage.Devices;
using static O3Storage.Storage.Tests.StoreFixtures;

namespace O3Storage.Storage.Tests;

/// <summary>Group commit: several small puts in one device write, and a power cut that persists any subset of its blocks.</summary>
public sealed class BlobStoreBatchTests
{
    [Fact]
    public void PutBatch_StoresEveryBlob_WithOneDeviceWrite_AndSurvivesReopen()
    {
        var random = new Random(1);
        var device = new RecordingBlockDevice(new byte[DeviceBytes(4)]);
        using (BlobStore formatted = FormatSmall(device))
        {
        }

        (BlobId, byte[])[] blobs = [(Id(1), Bytes(random, 100)), (Id(2), Bytes(random, 4000)), (Id(3), Bytes(random, 0)), (Id(1), Bytes(random, 7))];
        using (BlobStore store = BlobStore.Open(device, Small))
        {
            store.Put(Id(8), Bytes(random, 10)); // opens a head segment, so the batch below is the only write
            int writes = device.Writes.Count;
            IReadOnlyList<BlobInfo> stored = store.PutBatch([.. blobs.Select(b => (b.Item1, (ReadOnlyMemory<byte>)b.Item2))]);
            Assert.Equal(writes + 1, device.Writes.Count);
            Assert.Equal([100L, 4000L, 0L, 7L], stored.Select(s => s.LengthBytes));
            Assert.Equal(blobs[3].Item2, store.ReadAll(Id(1))); // the later put of an id wins
        }

        using BlobStore reopened = BlobStore.Open(device, Small);
        Assert.Equal(blobs[1].Item2, reopened.ReadAll(Id(2)));
        Assert.Equal(blobs[3].Item2, reopened.ReadAll(Id(1)));
        Assert.Empty(reopened.ReadAll(Id(3)));
        Assert.Throws<ArgumentException>(() => reopened.PutBatch([(Id(9), new byte[30_000])]));
    }

    [Fact]
    public void PowerCutDuringABatch_AnySubsetOfItsBlocks_NeverServesACorruptBlob_AndKeepsWhatCameBefore()
    {
        var random = new Random(2);
        var recording = new RecordingBlockDevice(new byte[DeviceBytes(4)]);
        FormatSmall(recording).Dispose();
        byte[] before = Bytes(random, 3000);
        (BlobId Id, byte[] Data)[] batch = [(Id(2), Bytes(random, 1000)), (Id(3), Bytes(random, 5000)), (Id(4), Bytes(random, 2000)), (Id(5), Bytes(random, 10))];
        int batchWrite;
        using (BlobStore store = BlobStore.Open(recording, Small))
        {
            store.Put(Id(1), before);
            batchWrite = recording.Writes.Count;
            store.PutBatch([.. batch.Select(b => (b.Id, (ReadOnlyMemory<byte>)b.Data))]);
        }

        (long offset, byte[] data) = recording.Writes[batchWrite];
        int blocks = data.Length / 4096;
        Assert.Equal(5, blocks);
        int images = 0;
        for (int mask = 0; mask < 1 << blocks; mask++)
        {
            foreach (bool garbage in new[] { false, true })
            {
                byte[] image = new byte[recording.Content.Length];
                recording.Writes.Take(batchWrite).ToList().ForEach(w => w.Data.CopyTo(image, w.Offset));
                for (int block = 0; block < blocks; block++)
                {
                    if ((mask & (1 << block)) != 0)
                    {
                        data.AsSpan(block * 4096, 4096).CopyTo(image.AsSpan((int)offset + (block * 4096)));
                    }
                    else if (garbage)
                    {
                        random.NextBytes(image.AsSpan((int)offset + (block * 4096) + 100, 200)); // half-written sectors
                    }
                }

                var imageDevice = new MemoryBlockDevice(image);
                using (BlobStore recovered = BlobStore.Open(imageDevice, Small))
                {
                    Assert.Equal(before, recovered.ReadAll(Id(1)));
                    foreach ((BlobId id, byte[] expected) in batch)
                    {
                        if (recovered.TryStat(id, out _))
                        {
                            Assert.Equal(expected, recovered.ReadAll(id)); // present means whole: a checksum failure here fails the test
                        }
                    }

                    Assert.Empty(recovered.Verify());
                    Assert.Equal(0, recovered.DamagedRecords); // a torn batch is a tear, not damage
                    recovered.Put(Id(9), Bytes(random, 500)); // the log goes on after the cut
                }

                // A later recovery, with the torn batch no longer at the tail, must not find its remains either.
                using BlobStore again = BlobStore.Open(imageDevice, Small);
                Assert.Empty(again.Verify());
                Assert.Equal(0, again.DamagedRecords);
                Assert.Equal(500, again.ReadAll(Id(9)).Length);
                images++;
            }
        }

        Assert.Equal(64, images);
    }
}
