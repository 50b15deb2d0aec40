// Owns: the summary a segment carries once sealed: one 48-byte entry per put and tombstone record, in
// log order, so recovery reads one contiguous region per sealed segment instead of every header.
// Sealed segments never change, so a summary never goes stale: it is the index checkpoint of its segment.
//
//  0 u32 record offset in blocks from the segment start   4 u8 kind   5..7 reserved
//  8 u64 sequence    16 u128 blob id    32 u64 payload length    40 u32 payload CRC-32C    44 u32 reserved
//
// Entries are packed 85 to a 4 KiB block (never straddling one); a zero entry (kind 0) ends the list.
// The summary fills the blocks just before the segment's last block, which holds the seal record: the
// seal's payload length is the summary's size in bytes and its payload CRC covers those blocks.
// See docs/storage-format.md.
using System.Buffers.Binary;

namespace O3Storage.Storage.Format;

internal readonly record struct SummaryEntry(RecordKind Kind, uint Block, ulong Sequence, BlobId Id, long PayloadLengthBytes, uint PayloadCrc)
{
    public static SummaryEntry Of(RecordHeader header, uint block) =>
        new(header.Kind, block, header.Sequence, header.Id, header.PayloadLengthBytes, header.PayloadCrc);
}

internal static class SegmentSummary
{
    public const int EntryBytes = 48;
    public const int EntriesPerBlock = RecordHeader.BlockBytes / EntryBytes;

    public static long BlocksFor(long entries) => (entries + EntriesPerBlock - 1) / EntriesPerBlock;

    /// <summary>Where entry <paramref name="index"/> lives: its block within the summary and its byte offset in that block.</summary>
    public static (long Block, int Offset) Position(long index) => (index / EntriesPerBlock, (int)(index % EntriesPerBlock) * EntryBytes);

    public static void Write(SummaryEntry entry, Span<byte> destination)
    {
        destination[..EntryBytes].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, entry.Block);
        destination[4] = (byte)entry.Kind;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], entry.Sequence);
        entry.Id.WriteTo(destination[16..]);
        BinaryPrimitives.WriteInt64LittleEndian(destination[32..], entry.PayloadLengthBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[40..], entry.PayloadCrc);
    }

    /// <summary>True for the zero entry that ends a summary.</summary>
    public static bool IsEnd(ReadOnlySpan<byte> source) => source[4] == 0;

    /// <summary>Decodes one entry; false when it cannot describe a record of a segment of <paramref name="segmentBlocks"/> blocks.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, long segmentBlocks, out SummaryEntry entry)
    {
        var kind = (RecordKind)source[4];
        entry = new SummaryEntry(
            kind,
            BinaryPrimitives.ReadUInt32LittleEndian(source),
            BinaryPrimitives.ReadUInt64LittleEndian(source[8..]),
            BlobId.ReadFrom(source[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[32..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[40..]));
        return kind is RecordKind.Put or RecordKind.Tombstone
            && entry.Block >= 1
            && entry.PayloadLengthBytes >= 0
            && entry.Block + RecordHeader.BlocksFor(entry.PayloadLengthBytes, RecordHeader.BlockBytes) < segmentBlocks;
    }
}
