// Owns: reading one segment's blocks through a window, so a scan over small records costs one large
// read per window instead of one 4 KiB read per record. A scan that jumps past the window (it skipped a
// large record) reads just the block it asked for: reading ahead there would fetch payload nobody needs.
using O3Storage.Storage.Devices;

namespace O3Storage.Storage;

internal sealed class SegmentWindow(IBlockDevice device, AlignedBuffer buffer, long segmentStartBytes)
{
    private const int BlockBytes = BlobStore.BlockBytes;
    private long _from = -1;
    private long _to = -1;

    /// <summary>The block at <paramref name="offsetBytes"/> (from the segment start); reads never cross <paramref name="limitBytes"/>.</summary>
    public ReadOnlySpan<byte> Block(long offsetBytes, long limitBytes)
    {
        if (offsetBytes < _from || offsetBytes + BlockBytes > _to)
        {
            bool sequential = offsetBytes == _to;
            int length = sequential || _to < 0 ? (int)Math.Min(buffer.LengthBytes, limitBytes - offsetBytes) : BlockBytes;
            length = Math.Max(length, BlockBytes);
            device.Read(segmentStartBytes + offsetBytes, buffer.Span[..length]);
            _from = offsetBytes;
            _to = offsetBytes + length;
        }

        return buffer.Span.Slice((int)(offsetBytes - _from), BlockBytes);
    }
}
