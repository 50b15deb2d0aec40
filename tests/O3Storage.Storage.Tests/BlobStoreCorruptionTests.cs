using O3Storage.Storage.Devices;
using static O3Storage.Storage.Tests.StoreFixtures;

namespace O3Storage.Storage.Tests;

/// <summary>Flipped bits, damaged superblocks, garbage and truncated devices: typed errors, never a crash or a hang.</summary>
public sealed class BlobStoreCorruptionTests
{
    private readonly Random _random = new(11);

    private (MemoryBlockDevice Device, Dictionary<BlobId, BlobInfo> Infos, Dictionary<BlobId, byte[]> Data) Populated(int blobs = 6)
    {
        var device = new MemoryBlockDevice(DeviceBytes(6));
        var infos = new Dictionary<BlobId, BlobInfo>();
        var data = new Dictionary<BlobId, byte[]>();
        using BlobStore store = FormatSmall(device);
        for (int i = 1; i <= blobs; i++)
        {
            data[Id(i)] = Bytes(_random, 6000);
            infos[Id(i)] = store.Put(Id(i), data[Id(i)]);
        }

        return (device, infos, data);
    }

    private static long RecordOffset(MemoryBlockDevice device, BlobId id)
    {
        using BlobStore store = BlobStore.Open(device);
        using Stream _ = store.OpenRead(id);
        // Records are laid out in put order after the segment start block: 2 blocks per 6000-byte blob.
        int n = (int)(id.Value >> 64);
        return Small.DataStartBytes + 4096 + ((n - 1) * 8192);
    }

    [Fact]
    public void FlippedPayloadBit_IsAChecksumErrorOnRead()
    {
        var (device, _, data) = Populated();
        long offset = RecordOffset(device, Id(3));
        device.Content[offset + 5000] ^= 0x10;

        using BlobStore store = BlobStore.Open(device);
        var error = Assert.Throws<ChecksumMismatchException>(() => store.ReadAll(Id(3)));
        Assert.Contains("payload checksum mismatch", error.Message);
        Assert.Equal(data[Id(4)], store.ReadAll(Id(4)));
    }

    [Fact]
    public void FlippedHeaderBit_LosesOnlyThatRecordAndIsCountedDamaged()
    {
        var (device, _, data) = Populated();
        long offset = RecordOffset(device, Id(3));
        device.Content[offset + 20] ^= 0x01; // inside the blob id

        using BlobStore store = BlobStore.Open(device);
        Assert.False(store.TryStat(Id(3), out _));
        Assert.Equal(1, store.DamagedRecords);
        foreach (int n in new[] { 1, 2, 4, 5, 6 })
        {
            Assert.Equal(data[Id(n)], store.ReadAll(Id(n)));
        }
    }

    [Fact]
    public void HeaderDamagedAfterOpen_IsCaughtWhenTheBlobIsRead()
    {
        var (device, _, _) = Populated();
        using BlobStore store = BlobStore.Open(device);
        device.Content[RecordOffset(device, Id(2)) + 40] ^= 0xFF;
        Assert.Throws<ChecksumMismatchException>(() => store.ReadAll(Id(2)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void OneSuperblockCopyDestroyed_TheOtherIsUsed(int slot)
    {
        var (device, _, data) = Populated();
        Array.Clear(device.Content, slot * 4096, 4096);

        using BlobStore store = BlobStore.Open(device);
        Assert.Equal(data[Id(1)], store.ReadAll(Id(1)));
    }

    [Fact]
    public void BothSuperblocksDestroyed_IsACorruptDeviceError()
    {
        var (device, _, _) = Populated();
        device.Content[100] ^= 1;
        device.Content[4096 + 100] ^= 1;

        var error = Assert.Throws<StorageCorruptException>(() => BlobStore.Open(device));
        Assert.Contains("superblock checksum mismatch", error.Message);
    }

    [Fact]
    public void TruncatedDevice_IsACorruptDeviceErrorNamingTheSizes()
    {
        var (device, _, _) = Populated();
        var truncated = new MemoryBlockDevice(device.Content.AsSpan(0, (int)DeviceBytes(3)).ToArray());

        var error = Assert.Throws<StorageCorruptException>(() => BlobStore.Open(truncated));
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void RandomGarbageDevices_AreRefusedCleanly()
    {
        const int seed = 99;
        var random = new Random(seed);
        for (int i = 0; i < 200; i++)
        {
            var device = new MemoryBlockDevice(Bytes(random, 4096 * random.Next(0, 40)));
            try
            {
                using BlobStore store = BlobStore.Open(device);
                Assert.Fail($"seed {seed}, case {i}: garbage opened as a store");
            }
            catch (StorageCorruptException)
            {
            }
        }
    }

    [Fact]
    public void GarbageInsideAValidStore_NeverCrashesRecovery()
    {
        const int seed = 5;
        var random = new Random(seed);
        for (int i = 0; i < 100; i++)
        {
            var (device, _, data) = Populated();
            int at = (int)Small.DataStartBytes + random.Next((int)(device.CapacityBytes - Small.DataStartBytes - 4096));
            random.NextBytes(device.Content.AsSpan(at, random.Next(1, 4096)));

            using BlobStore store = BlobStore.Open(device);
            foreach (BlobInfo info in store.List())
            {
                try
                {
                    Assert.Equal(data[info.Id], store.ReadAll(info.Id));
                }
                catch (ChecksumMismatchException)
                {
                    // Detected: the damaged blob is refused, never served.
                }
            }
        }
    }
}
