// Owns: reclaiming segments. A victim's live records are copied to the head (keeping their sequence
// numbers, so recovery orders them exactly as before), then its start block is zeroed and the whole
// segment discarded (TRIM on flash, a punched hole in a file).
//
// Tombstone rule: a tombstone may be dropped only when no older record of its blob can remain: when
// its segment is the oldest in use, or the blob has been put again since (the newer put outranks
// every older record). Otherwise it is copied forward like a live record. Any sealed segment can
// therefore be a victim; the cheapest one (fewest bytes to copy) goes first.
//
// Crash safety: until the victim's start block is zeroed both copies exist and recovery keeps the one
// in the newer segment (equal sequence, later segment wins); a torn copy is simply not a record.
using O3Storage.Storage.Devices;
using O3Storage.Storage.Format;

namespace O3Storage.Storage;

public sealed partial class BlobStore
{
    /// <summary>Compacts sealed segments until more than the reserve is free, or nothing more can be gained.</summary>
    public int Compact()
    {
        lock (_lock)
        {
            int compacted = 0;
            _compacting = true;
            try
            {
                // Bounded: each round frees a segment at a net gain (see ChooseVictim), at most one per segment.
                for (int round = 0; round < _segments.Length && FreeSegments() <= ReservedSegments && ChooseVictim() is { } victim; round++)
                {
                    CompactSegment(victim);
                    compacted++;
                }
            }
            finally
            {
                _compacting = false;
            }

            return compacted;
        }
    }

    private Segment? ChooseVictim()
    {
        long usable = _superblock.SegmentSizeBytes - (2 * BlockBytes);

        // A victim must pay for itself: its live data fits in the head as it is (the victim's whole
        // segment is gained), or at most half of it is live (two victims cost at most one segment).
        // Without this, a segment whose only "garbage" is a tail too short for the next record would be
        // copied to a new segment with the same tail, forever.
        return _segments
            .Where(s => s.State == SegmentState.Sealed)
            .Where(s => CopyCost(s) <= HeadRoomBytes() || (CopyCost(s) <= usable / 2 && FreeSegments() > 0))
            .MinBy(CopyCost);
    }

    /// <summary>Bytes compaction may copy out of a segment: live records and (at most) its tombstones.</summary>
    private static long CopyCost(Segment segment) => segment.LiveBytes + ((long)segment.TombstoneCount * BlockBytes);

    private long HeadRoomBytes() => _head is null ? 0 : _superblock.SegmentSizeBytes - _head.WriteOffsetBytes - BlockBytes;

    private void CompactSegment(Segment victim)
    {
        bool oldest = victim == _segments.Where(s => s.State != SegmentState.Free).MinBy(s => s.Sequence);
        List<RecordHeader> tombstones = oldest ? [] : TombstonesToKeep(victim);
        var live = _index.Where(entry => entry.Value.Segment == victim.Index).OrderBy(entry => entry.Value.OffsetBytes).ToList();
        foreach ((BlobId id, Location location) in live)
        {
            Location? moved = CopyRecord(id, location);
            Replace(id, moved);
            if (moved is null)
            {
                _damagedRecords++;
            }
        }

        Span<byte> block = _headerBlock.Span;
        foreach (RecordHeader tombstone in tombstones)
        {
            Segment head = EnsureHeadHasRoom(1, mayUseReserve: true);
            block.Clear();
            (tombstone with { SegmentSequence = head.Sequence }).WriteTo(block, _superblock.Salt);
            _device.Write(SegmentOffset(head) + head.WriteOffsetBytes, block);
            head.WriteOffsetBytes += BlockBytes;
            head.TombstoneCount++;
        }

        block.Clear();
        long start = SegmentOffset(victim);
        _device.Write(start, block); // from here on the segment is free, durably
        _device.Discard(start, _superblock.SegmentSizeBytes);
        victim.State = SegmentState.Free;
        victim.LiveBytes = 0;
        victim.TombstoneCount = 0;
        victim.WriteOffsetBytes = 0;
    }

    /// <summary>Copies one Put record to the head, verifying it on the way; null if it is damaged.</summary>
    private Location? CopyRecord(BlobId id, Location location)
    {
        long blocks = RecordHeader.BlocksFor(location.LengthBytes, BlockBytes);
        Segment head = EnsureHeadHasRoom(blocks, mayUseReserve: true);
        long target = SegmentOffset(head) + head.WriteOffsetBytes;
        Span<byte> headerBlock = _headerBlock.Span;
        _device.Read(location.OffsetBytes, headerBlock);
        if (!RecordHeader.TryRead(headerBlock, _superblock.Salt, out RecordHeader header)
            || header.Kind != RecordKind.Put || header.Id != id || header.Sequence != location.Sequence)
        {
            return null;
        }

        int inHeader = (int)Math.Min(location.LengthBytes, BlockBytes - RecordHeader.SizeBytes);
        uint crc = Crc32C.Append(~0u, headerBlock.Slice(RecordHeader.SizeBytes, inHeader));
        long remaining = location.LengthBytes - inHeader;
        long copied = 0;
        Span<byte> chunk = _chunk.Span;
        while (remaining > 0)
        {
            int payload = (int)Math.Min(chunk.Length, remaining);
            int padded = Align(payload);
            _device.Read(location.OffsetBytes + BlockBytes + copied, chunk[..padded]);
            crc = Crc32C.Append(crc, chunk[..payload]);
            _device.Write(target + BlockBytes + copied, chunk[..padded]);
            copied += padded;
            remaining -= payload;
        }

        if (~crc != location.Crc)
        {
            return null;
        }

        // The header block goes last, as in a put: until it is written the copy does not exist.
        (header with { SegmentSequence = head.Sequence }).WriteTo(headerBlock, _superblock.Salt);
        _device.Write(target, headerBlock);
        head.WriteOffsetBytes += blocks * BlockBytes;
        return location with { Segment = head.Index, OffsetBytes = target };
    }

    /// <summary>Tombstones of <paramref name="victim"/> whose blob is still deleted (not put again since).</summary>
    private List<RecordHeader> TombstonesToKeep(Segment victim)
    {
        var keep = new List<RecordHeader>();
        long start = SegmentOffset(victim);
        long end = _superblock.SegmentSizeBytes - BlockBytes;
        Span<byte> block = _headerBlock.Span;
        for (long offset = BlockBytes; offset <= end;)
        {
            _device.Read(start + offset, block);
            if (!RecordHeader.TryRead(block, _superblock.Salt, out RecordHeader header) || header.SegmentSequence != victim.Sequence)
            {
                // Damaged mid-segment (already counted when the store was opened): continue after it.
                long next = Resync(_device, _superblock, victim, start, offset + BlockBytes, end, _chunk.Span);
                if (next < 0)
                {
                    break;
                }

                offset = next;
                continue;
            }

            if (header.Kind == RecordKind.Seal)
            {
                break;
            }

            if (header.Kind == RecordKind.Tombstone && !_index.ContainsKey(header.Id))
            {
                keep.Add(header);
            }

            offset += RecordHeader.BlocksFor(header.PayloadLengthBytes, BlockBytes) * BlockBytes;
        }

        return keep;
    }
}
