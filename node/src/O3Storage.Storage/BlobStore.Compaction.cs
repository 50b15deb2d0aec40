// Owns: reclaiming segments. A victim's live records are copied to the head (keeping their sequence
// numbers, so recovery orders them exactly as before), then its start block is zeroed and the whole
// segment discarded (TRIM on flash, a punched hole in a file).
//
// Tombstone rule: a tombstone is dropped when its blob was put again (the newer put outranks every
// older record) or when no dead put of its blob remains on the device outside the victim (nothing
// left to resurrect); otherwise it is copied forward. The store counts dead puts per blob for this.
// Any sealed segment can be a victim; the oldest goes first when it qualifies, else the cheapest.
//
// Crash safety: until the victim's start block is zeroed both copies exist and recovery keeps the one
// in the newer segment (equal sequence, later segment wins); a torn copy is simply not a record.
using O3Storage.Storage.Devices;
using O3Storage.Storage.Format;

namespace O3Storage.Storage;

public sealed partial class BlobStore
{
    /// <summary>
    /// Compacts sealed segments until more than the reserve is free (or, with <paramref name="all"/>,
    /// as long as a segment pays for its copy), and returns how many were reclaimed.
    /// </summary>
    public int Compact(bool all = false)
    {
        lock (_lock)
        {
            int compacted = 0;
            _compacting = true;
            try
            {
                // Bounded: each round frees a segment at a net gain (see ChooseVictim), at most one per segment.
                for (int round = 0; round < _segments.Length && (all || FreeSegments() <= ReservedSegments) && ChooseVictim() is { } victim; round++)
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
        var candidates = _segments
            .Where(s => s.State == SegmentState.Sealed)
            .Where(s => CopyCost(s) <= HeadRoomBytes() || (CopyCost(s) <= usable / 2 && FreeSegments() > 0))
            .ToList();

        // The oldest segment first when it qualifies: only there are tombstones dropped rather than
        // copied forward, so preferring cheaper younger segments would let tombstones pile up.
        Segment? oldest = _segments.Where(s => s.State != SegmentState.Free).MinBy(s => s.Sequence);
        return oldest is not null && candidates.Contains(oldest) ? oldest : candidates.MinBy(CopyCost);
    }

    /// <summary>Bytes compaction may copy out of a segment: live records and (at most) its tombstones.</summary>
    private static long CopyCost(Segment segment) => segment.LiveBytes + ((long)segment.TombstoneCount * BlockBytes);

    private long HeadRoomBytes() => _head is null ? 0 : _superblock.SegmentSizeBytes - _head.WriteOffsetBytes - BlockBytes;

    private void CompactSegment(Segment victim)
    {
        (List<RecordHeader> victimTombstones, Dictionary<BlobId, int> victimDeadPuts) = ScanVictim(victim);

        // The victim's dead puts vanish with it; a tombstone is kept only for a blob that is still
        // deleted and still has a dead put somewhere else.
        foreach ((BlobId id, int count) in victimDeadPuts)
        {
            int left = _deadPuts.GetValueOrDefault(id) - count;
            if (left > 0)
            {
                _deadPuts[id] = left;
            }
            else
            {
                _deadPuts.Remove(id);
            }
        }

        List<RecordHeader> tombstones = victimTombstones.Where(t => !_index.ContainsKey(t.Id) && _deadPuts.ContainsKey(t.Id)).ToList();
        var live = _index.Where(entry => entry.Value.Segment == victim.Index).OrderBy(entry => entry.Value.OffsetBytes).ToList();
        foreach ((BlobId id, Location location) in live)
        {
            Location? moved = CopyRecord(id, location);
            Replace(id, moved, previousStaysOnDevice: false);
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

    /// <summary>The victim's tombstones, and how many dead (not indexed) put records of each blob it holds.</summary>
    private (List<RecordHeader> Tombstones, Dictionary<BlobId, int> DeadPuts) ScanVictim(Segment victim)
    {
        var tombstones = new List<RecordHeader>();
        var deadPuts = new Dictionary<BlobId, int>();
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

            if (header.Kind == RecordKind.Tombstone)
            {
                tombstones.Add(header);
            }
            else if (header.Kind == RecordKind.Put
                && !(_index.TryGetValue(header.Id, out Location live) && live.Segment == victim.Index && live.OffsetBytes == start + offset))
            {
                deadPuts[header.Id] = deadPuts.GetValueOrDefault(header.Id) + 1;
            }

            offset += RecordHeader.BlocksFor(header.PayloadLengthBytes, BlockBytes) * BlockBytes;
        }

        return (tombstones, deadPuts);
    }
}
