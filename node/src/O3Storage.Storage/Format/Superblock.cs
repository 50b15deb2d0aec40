// Owns: the superblock, kept in two 4 KiB copies at offsets 0 and 4096. A new generation is written to
// the slot (generation % 2), so the other copy survives a torn write; readers take the valid copy with
// the highest generation.
using System.Buffers.Binary;

namespace O3Storage.Storage.Format;

internal sealed record Superblock(
    ulong Generation,
    Guid DeviceUuid,
    Guid NodeUuid,
    Guid ClusterUuid,
    long SegmentSizeBytes,
    int SegmentCount,
    uint Salt,
    long DataStartBytes,
    long CreatedUnixMs)
{
    public const int SizeBytes = 4096;
    public const uint FormatVersion = 2;
    public const int BlockSizeBytes = 4096;

    /// <summary>2 GiB: record lengths and block offsets within a segment then fit 32 bits.</summary>
    public const long SegmentSizeBytesMax = 2L * 1024 * 1024 * 1024;
    private static ReadOnlySpan<byte> Magic => "O3SUPER\0"u8;

    public long DataEndBytes => DataStartBytes + (SegmentSizeBytes * SegmentCount);

    public void WriteTo(Span<byte> block)
    {
        block[..SizeBytes].Clear();
        Magic.CopyTo(block);
        BinaryPrimitives.WriteUInt32LittleEndian(block[8..], FormatVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(block[12..], BlockSizeBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(block[16..], Generation);
        DeviceUuid.TryWriteBytes(block[24..]);
        NodeUuid.TryWriteBytes(block[40..]);
        ClusterUuid.TryWriteBytes(block[56..]);
        BinaryPrimitives.WriteInt64LittleEndian(block[72..], SegmentSizeBytes);
        BinaryPrimitives.WriteInt32LittleEndian(block[80..], SegmentCount);
        BinaryPrimitives.WriteUInt32LittleEndian(block[84..], Salt);
        BinaryPrimitives.WriteInt64LittleEndian(block[88..], DataStartBytes);
        BinaryPrimitives.WriteInt64LittleEndian(block[96..], CreatedUnixMs);
        BinaryPrimitives.WriteUInt32LittleEndian(block[(SizeBytes - 4)..], Crc32C.Compute(block[..(SizeBytes - 4)]));
    }

    /// <summary>Decodes one copy; null when it is not a valid superblock (wrong magic, version or checksum).</summary>
    public static Superblock? TryRead(ReadOnlySpan<byte> block, out string? problem)
    {
        if (!block[..8].SequenceEqual(Magic))
        {
            problem = "no o3storage superblock magic";
            return null;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(block[(SizeBytes - 4)..]) != Crc32C.Compute(block[..(SizeBytes - 4)]))
        {
            problem = "superblock checksum mismatch";
            return null;
        }

        uint version = BinaryPrimitives.ReadUInt32LittleEndian(block[8..]);
        if (version != FormatVersion)
        {
            problem = $"storage format version {version} is not understood by this node (it reads version {FormatVersion})";
            return null;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(block[12..]) != BlockSizeBytes)
        {
            problem = "superblock names an unsupported block size";
            return null;
        }

        var superblock = new Superblock(
            BinaryPrimitives.ReadUInt64LittleEndian(block[16..]),
            new Guid(block.Slice(24, 16)),
            new Guid(block.Slice(40, 16)),
            new Guid(block.Slice(56, 16)),
            BinaryPrimitives.ReadInt64LittleEndian(block[72..]),
            BinaryPrimitives.ReadInt32LittleEndian(block[80..]),
            BinaryPrimitives.ReadUInt32LittleEndian(block[84..]),
            BinaryPrimitives.ReadInt64LittleEndian(block[88..]),
            BinaryPrimitives.ReadInt64LittleEndian(block[96..]));
        if (superblock.SegmentSizeBytes < 4 * BlockSizeBytes || superblock.SegmentSizeBytes % BlockSizeBytes != 0 || superblock.SegmentSizeBytes > SegmentSizeBytesMax
            || superblock.SegmentCount <= 0 || superblock.DataStartBytes < 2 * SizeBytes || superblock.DataStartBytes % BlockSizeBytes != 0)
        {
            problem = "superblock geometry is impossible";
            return null;
        }

        problem = null;
        return superblock;
    }
}
