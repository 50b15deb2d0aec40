// Owns: reclaiming segments. A victim's live records are copied to the head (keeping their sequence
// numbers, so recovery orders them exactly as before), then its start block is zeroed and the whole
// segment discarded (TRIM on flash, a punched hole in a file).
//
// Tombstone rule: a tombstone is dropped when its blob was put again (the newer put outranks every
// older record) or when no dead put of its blob remains on the device outside the victim (nothing
// left to resurrect); otherwise it is copied forward. The store counts dead puts per blob for this.
// Any sealed segment can be a victim; the oldest goes first when it qualifies, else the cheapest.
//
// Background compaction (CompactStep) drains one victim in bounded steps, releasing the lock between
// them so puts and deletes go on; the victim is freed by the same CompactSegment once it holds nothing
// live. A copied record's original counts as a dead put until then, so the bookkeeping stays exact even
// if a foreground compaction takes over the half-drained victim.
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

    /// <summary>
    /// One bounded step of background compaction: copies up to about <paramref name="maxBytes"/> of live
    /// data out of the current victim (choosing one when there is none) and frees it once drained.
    /// Idle when no segment holds enough garbage to be worth its copy.
    /// </summary>
    public CompactionProgress CompactStep(long maxBytes)
    {
        lock (_lock)
        {
            _compacting = true;
            try
            {
                if (_victim is not { } victim || victim.State != SegmentState.Sealed || victim.Sequence != _victimSequence)
                {
                    victim = _victim = ChooseBackgroundVictim();
                    if (victim is null)
                    {
                        _victimLive.Clear();
                        return new CompactionProgress(0, SegmentFreed: false, Idle: true);
                    }

                    _victimSequence = victim.Sequence;
                    _victimLive.Clear();
                    foreach ((BlobId id, Location location) in ReadVictim(victim).Live)
                    {
                        _victimLive.Enqueue((id, location));
                    }
                }

                long copied = 0;
                while (copied < maxBytes && _victimLive.TryDequeue(out (BlobId Id, Location Location) next))
                {
                    // Replaced or deleted since the victim was read: nothing to move.
                    if (!_index.TryGetValue(next.Id, out Location current) || current != next.Location)
                    {
                        continue;
                    }

                    Location? moved = CopyRecord(next.Id, current);
                    Replace(next.Id, moved, previousStaysOnDevice: true);
                    _damagedRecords += moved is null ? 1 : 0;
                    copied += current.RecordBytes;
                }

                if (_victimLive.Count > 0)
                {
                    return new CompactionProgress(copied, SegmentFreed: false, Idle: false);
                }

                CompactSegment(victim);
                _victim = null;
                return new CompactionProgress(copied, SegmentFreed: true, Idle: false);
            }
            finally
            {
                _compacting = false;
            }
        }
    }

    /// <summary>
    /// The sealed segment with the least to copy, if it is worth it: at least half of what was written
    /// to it is garbage (superseded or deleted records), or at least a tenth when free segments run low.
    /// The unused tail of a segment is not garbage: copying cannot reclaim it, and counting it would
    /// shuffle big blobs between segments forever. The copy must fit in the head or in a free segment
    /// beyond the reserve, so background work never eats into the reserve.
    /// </summary>
    private Segment? ChooseBackgroundVictim()
    {
        int lowWater = Math.Max(ReservedSegments + 2, _segments.Length / 10);
        double minGarbage = FreeSegments() <= lowWater ? 0.1 : 0.5;
        Segment? best = _segments
            .Where(s => s.State == SegmentState.Sealed && GarbageRatio(s) >= minGarbage)
            .MinBy(CopyCost);
        return best is not null && (FitsInHead(best) || FreeSegments() > ReservedSegments) ? best : null;
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
            .Where(s => FitsInHead(s) || (CopyCost(s) <= usable / 2 && FreeSegments() > 0))
            .ToList();

        // The oldest segment first when it qualifies: only there are tombstones dropped rather than
        // copied forward, so preferring cheaper younger segments would let tombstones pile up.
        Segment? oldest = _segments.Where(s => s.State != SegmentState.Free).MinBy(s => s.Sequence);
        return oldest is not null && candidates.Contains(oldest) ? oldest : candidates.MinBy(CopyCost);
    }

    /// <summary>The share of the records written to a segment that are neither live nor (possibly needed) tombstones.</summary>
    private static double GarbageRatio(Segment segment)
    {
        long written = segment.WriteOffsetBytes - BlockBytes;
        return written <= 0 ? 0 : 1.0 - ((double)CopyCost(segment) / written);
    }

    /// <summary>Bytes compaction may copy out of a segment: live records and (at most) its tombstones.</summary>
    private static long CopyCost(Segment segment) => segment.LiveBytes + ((long)segment.TombstoneCount * BlockBytes);

    /// <summary>Whether everything compaction may copy out of <paramref name="segment"/> fits in the head, with its summary entries.</summary>
    private bool FitsInHead(Segment segment)
    {
        if (_head is null)
        {
            return false;
        }

        long copyBlocks = CopyCost(segment) / BlockBytes; // each copied record is at least one block
        long summaryBlocks = SegmentSummary.BlocksFor(_headEntries.Count + copyBlocks);
        return (_head.WriteOffsetBytes / BlockBytes) + copyBlocks + summaryBlocks + 1 <= SegmentBlocks;
    }

    private void CompactSegment(Segment victim)
    {
        (List<SummaryEntry> victimTombstones, List<(BlobId, Location)> live, Dictionary<BlobId, int> victimDeadPuts) = ReadVictim(victim);

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

        List<SummaryEntry> tombstones = victimTombstones.Where(t => !_index.ContainsKey(t.Id) && _deadPuts.ContainsKey(t.Id)).ToList();
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
        foreach (SummaryEntry tombstone in tombstones)
        {
            Segment head = EnsureHeadHasRoom(1, mayUseReserve: true);
            block.Clear();
            var copy = new RecordHeader(RecordKind.Tombstone, tombstone.Sequence, tombstone.Id, 0, 0, head.Sequence);
            copy.WriteTo(block, _superblock.Salt);
            long offset = SegmentOffset(head) + head.WriteOffsetBytes;
            _device.Write(offset, block);
            Appended(head, copy, offset, 1);
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
            _device.WriteUnsynced(target + BlockBytes + copied, chunk[..padded]);
            copied += padded;
            remaining -= payload;
        }

        if (~crc != location.Crc)
        {
            return null;
        }

        // The header block goes last, as in a put: until it is written the copy does not exist.
        if (copied > 0)
        {
            _device.Flush();
        }

        RecordHeader copy = header with { SegmentSequence = head.Sequence };
        copy.WriteTo(headerBlock, _superblock.Salt);
        _device.Write(target, headerBlock);
        Appended(head, copy, target, blocks);
        return location with { OffsetBytes = target };
    }

    /// <summary>The victim's tombstones, its live records in log order, and how many dead (not indexed) put records of each blob it holds.</summary>
    private (List<SummaryEntry> Tombstones, List<(BlobId Id, Location Location)> Live, Dictionary<BlobId, int> DeadPuts) ReadVictim(Segment victim)
    {
        var tombstones = new List<SummaryEntry>();
        var live = new List<(BlobId, Location)>();
        var deadPuts = new Dictionary<BlobId, int>();
        long start = SegmentOffset(victim);

        // Damage found here was already counted when the store was opened.
        foreach (SummaryEntry entry in ReadRecords(_device, _superblock, victim, _chunk).Entries)
        {
            long offset = start + (entry.Block * (long)BlockBytes);
            if (entry.Kind == RecordKind.Tombstone)
            {
                tombstones.Add(entry);
            }
            else if (_index.TryGetValue(entry.Id, out Location location) && location.OffsetBytes == offset)
            {
                live.Add((entry.Id, location));
            }
            else
            {
                deadPuts[entry.Id] = deadPuts.GetValueOrDefault(entry.Id) + 1;
            }
        }

        return (tombstones, live, deadPuts);
    }
}
