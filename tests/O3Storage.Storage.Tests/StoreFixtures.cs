using O3Storage.Storage.Devices;

namespace O3Storage.Storage.Tests;

internal static class StoreFixtures
{
    /// <summary>Small geometry so tests cross segment boundaries: 64 KiB segments after a 16 KiB header area.</summary>
    public static readonly BlobStoreOptions Small = new() { SegmentSizeBytes = 64 * 1024, DataStartBytes = 16 * 1024, IoChunkBytes = 16 * 1024 };

    public static long DeviceBytes(int segments) => Small.DataStartBytes + (segments * Small.SegmentSizeBytes);

    public static BlobStore FormatSmall(IBlockDevice device) => BlobStore.Format(device, Guid.NewGuid(), Guid.NewGuid(), Small);

    public static byte[] Bytes(Random random, int length)
    {
        var data = new byte[length];
        random.NextBytes(data);
        return data;
    }

    public static BlobId Id(int n) => new((UInt128)(uint)n << 64 | 0xABCDu);
}
