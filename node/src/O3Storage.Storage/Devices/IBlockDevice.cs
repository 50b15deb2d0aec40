namespace O3Storage.Storage.Devices;

/// <summary>
/// A fixed-size device addressed in bytes. Offsets and lengths of every read and write are multiples of
/// <see cref="IBlockDevice.AlignmentBytes"/>, and buffers come from <see cref="AlignedBuffer"/>, because
/// O_DIRECT demands it. A <see cref="Write"/> that returns is durable (O_DSYNC); a
/// <see cref="WriteUnsynced"/> is durable only after the next <see cref="Flush"/>, and until then may
/// reach the media in any order, or not at all.
/// </summary>
public interface IBlockDevice : IDisposable
{
    /// <summary>The device's logical sector size: the smallest unit a torn write can leave behind.</summary>
    int SectorSizeBytes { get; }

    /// <summary>Alignment of offsets, lengths and buffers for IO on this device.</summary>
    int AlignmentBytes { get; }

    long CapacityBytes { get; }

    /// <summary>True when IO bypasses the page cache (O_DIRECT).</summary>
    bool DirectIo { get; }

    string Description { get; }

    void Read(long offsetBytes, Span<byte> destination);

    void Write(long offsetBytes, ReadOnlySpan<byte> source);

    /// <summary>Writes for bulk payload: no wait for the media. Follow with <see cref="Flush"/> before anything depends on it.</summary>
    void WriteUnsynced(long offsetBytes, ReadOnlySpan<byte> source);

    /// <summary>Makes every earlier <see cref="WriteUnsynced"/> durable (fdatasync).</summary>
    void Flush();

    /// <summary>Tells the device a range no longer holds data (TRIM/hole punch); a no-op where unsupported.</summary>
    void Discard(long offsetBytes, long lengthBytes);
}
