// Owns: the 64-byte header at the start of every record's first 4 KiB block.
//
//  0 u32 magic "O3RC"      4 u8 version   5 u8 kind   6 u16 flags (1: written whole, 2: batched; see RecordFlags)
//  8 u64 sequence (global, monotonic: orders puts and deletes of one blob across segments)
// 16 u128 blob id (0 for segment bookkeeping)
// 32 u64 payload length    40 u32 payload CRC-32C   44 u32 batched: blocks from the batch's start to this record
// 48 u64 segment sequence (which use of the physical segment wrote this record)
// 56 u32 batched: blocks from this record to the batch's end (0: not batched)
//                          60 u32 block CRC-32C, seeded with the device salt, over bytes 0..59 and
//                          64..4095 of the header block (so the payload bytes that share the block
//                          with the header are covered too: a torn write of that block is detected)
//
// The salt makes a header that a client smuggled inside blob content (to be found by a resync scan)
// fail its checksum: clients never see the salt. The segment sequence rejects stale records left
// from an earlier use of a reused segment.
using System.Buffers.Binary;

namespace O3Storage.Storage.Format;

internal enum RecordKind : byte
{
    Put = 1,
    Tombstone = 2,
    SegmentStart = 3,
    Seal = 4,
}

[Flags]
internal enum RecordFlags : ushort
{
    None = 0,

    /// <summary>
    /// Header and payload went to the device in one write, so a power cut may have left the header
    /// without all of its payload: recovery verifies the payload of such a record at the log tail.
    /// </summary>
    WrittenWhole = 1,

    /// <summary>
    /// Written whole in one device write together with other small records (group commit): a power
    /// cut may have persisted any of that write's blocks, so recovery verifies every such record in
    /// the last batch-sized stretch of a segment's log, not only the last record.
    /// </summary>
    Batched = 2,
}

internal readonly record struct RecordHeader(RecordKind Kind, ulong Sequence, BlobId Id, long PayloadLengthBytes, uint PayloadCrc, ulong SegmentSequence, RecordFlags Flags = RecordFlags.None, uint BatchBlocksBefore = 0, uint BatchBlocksAfter = 0)
{
    public const int SizeBytes = 64;
    public const int BlockBytes = 4096;
    public const byte Version = 1;
    private const uint Magic = 0x4352_334F; // "O3RC" little-endian

    /// <summary>Writes the header into a header block whose payload part (bytes 64..4095) is already filled.</summary>
    public void WriteTo(Span<byte> destination, uint salt)
    {
        destination[..SizeBytes].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        destination[4] = Version;
        destination[5] = (byte)Kind;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], (ushort)Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], Sequence);
        Id.WriteTo(destination[16..]);
        BinaryPrimitives.WriteInt64LittleEndian(destination[32..], PayloadLengthBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[40..], PayloadCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[44..], BatchBlocksBefore);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[48..], SegmentSequence);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[56..], BatchBlocksAfter);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[60..], HeaderCrc(destination, salt));
    }

    public static bool TryRead(ReadOnlySpan<byte> source, uint salt, out RecordHeader header)
    {
        header = default;
        if (BinaryPrimitives.ReadUInt32LittleEndian(source) != Magic
            || source[4] != Version
            || BinaryPrimitives.ReadUInt32LittleEndian(source[60..]) != HeaderCrc(source, salt))
        {
            return false;
        }

        var kind = (RecordKind)source[5];
        long length = BinaryPrimitives.ReadInt64LittleEndian(source[32..]);
        if (kind is < RecordKind.Put or > RecordKind.Seal || length < 0)
        {
            return false;
        }

        header = new RecordHeader(
            kind,
            BinaryPrimitives.ReadUInt64LittleEndian(source[8..]),
            BlobId.ReadFrom(source[16..]),
            length,
            BinaryPrimitives.ReadUInt32LittleEndian(source[40..]),
            BinaryPrimitives.ReadUInt64LittleEndian(source[48..]),
            (RecordFlags)BinaryPrimitives.ReadUInt16LittleEndian(source[6..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[44..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[56..]));
        return true;
    }

    /// <summary>Blocks the record occupies: the header block holds the first payload bytes.</summary>
    public static long BlocksFor(long payloadLengthBytes, int blockSizeBytes) =>
        (SizeBytes + payloadLengthBytes + blockSizeBytes - 1) / blockSizeBytes;

    /// <param name="block">The whole 4 KiB header block.</param>
    private static uint HeaderCrc(ReadOnlySpan<byte> block, uint salt)
    {
        Span<byte> seed = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(seed, salt);
        uint crc = Crc32C.Append(Crc32C.Append(~0u, seed), block[..60]);
        return ~Crc32C.Append(crc, block[SizeBytes..BlockBytes]);
    }
}
