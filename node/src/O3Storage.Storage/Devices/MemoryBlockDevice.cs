namespace O3Storage.Storage.Devices;

/// <summary>The simulated twin of a block device: a byte array, every write durable at once.</summary>
public class MemoryBlockDevice(byte[] content, int sectorSizeBytes = 512, int alignmentBytes = 4096) : IBlockDevice
{
    public MemoryBlockDevice(long capacityBytes)
        : this(new byte[capacityBytes])
    {
    }

    public byte[] Content => content;

    public int SectorSizeBytes => sectorSizeBytes;

    public int AlignmentBytes => alignmentBytes;

    public long CapacityBytes => content.LongLength;

    public bool DirectIo => false;

    public string Description => $"memory ({content.LongLength} bytes)";

    public virtual void Read(long offsetBytes, Span<byte> destination)
    {
        CheckRange(offsetBytes, destination.Length);
        content.AsSpan(checked((int)offsetBytes), destination.Length).CopyTo(destination);
    }

    public virtual void Write(long offsetBytes, ReadOnlySpan<byte> source)
    {
        CheckRange(offsetBytes, source.Length);
        source.CopyTo(content.AsSpan(checked((int)offsetBytes)));
    }

    public virtual void WriteUnsynced(long offsetBytes, ReadOnlySpan<byte> source) => Write(offsetBytes, source);

    public virtual void Flush()
    {
    }

    public virtual void Discard(long offsetBytes, long lengthBytes)
    {
        CheckRange(offsetBytes, lengthBytes);
        content.AsSpan(checked((int)offsetBytes), checked((int)lengthBytes)).Clear();
    }

    public void Dispose()
    {
    }

    private void CheckRange(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset % alignmentBytes != 0 || length % alignmentBytes != 0 || offset + length > content.LongLength)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"IO at {offset}+{length} is unaligned or outside the {content.LongLength}-byte device");
        }
    }
}
