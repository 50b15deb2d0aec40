// Owns: opening an existing store: choosing the superblock, finding the segments in use, and
// rebuilding the index by replaying their records in segment order: a sealed segment's records come
// from its summary (one read), the head's (the log tail) from scanning it.
// Faults survived: a torn superblock write (the other copy is used), a torn record at the log tail
// (it never existed), a damaged record mid-log (skipped by scanning ahead to the next valid header,
// counted in DamagedRecords), a damaged summary (the segment is scanned instead, counted). A device
// that is not a store, or is smaller than its superblock says, is a StorageCorruptException with the
// reason, never a crash.
using O3Storage.Storage.Devices;
using O3Storage.Storage.Format;

namespace O3Storage.Storage;

public sealed partial class BlobStore
{
    public static BlobStore Open(IBlockDevice device, BlobStoreOptions? options = null)
    {
        options ??= new BlobStoreOptions();
        CheckDevice(device);
        if (device.CapacityBytes < 2 * Superblock.SizeBytes)
        {
            throw new StorageCorruptException($"{device.Description} is too small to hold an o3storage superblock");
        }

        Superblock superblock = ReadSuperblock(device);
        if (superblock.DataEndBytes > device.CapacityBytes)
        {
            throw new StorageCorruptException(
                $"{device.Description} is {device.CapacityBytes} bytes but its superblock describes {superblock.DataEndBytes}: the device was truncated or is not the one formatted");
        }

        options = options with { SegmentSizeBytes = superblock.SegmentSizeBytes, DataStartBytes = superblock.DataStartBytes };
        var segments = new Segment[superblock.SegmentCount];
        using var block = new AlignedBuffer(BlockBytes);
        using var window = new AlignedBuffer(options.IoChunkBytes);
        ulong maxSequence = 0;
        ulong maxSegmentSequence = 0;
        for (int i = 0; i < segments.Length; i++)
        {
            segments[i] = new Segment(i);
            device.Read(SegmentStart(superblock, i), block.Span);
            if (RecordHeader.TryRead(block.Span, superblock.Salt, out RecordHeader start) && start.Kind == RecordKind.SegmentStart)
            {
                segments[i].State = SegmentState.Open;
                segments[i].Sequence = start.SegmentSequence;
                segments[i].WriteOffsetBytes = BlockBytes;
                maxSequence = Math.Max(maxSequence, start.Sequence);
                maxSegmentSequence = Math.Max(maxSegmentSequence, start.SegmentSequence + 1);
            }
        }

        var index = new Dictionary<BlobId, Location>();
        var deleted = new Dictionary<BlobId, ulong>();
        var deadPuts = new Dictionary<BlobId, int>();
        var unsealed = new Dictionary<Segment, List<SummaryEntry>>();
        int damaged = 0;
        foreach (Segment segment in segments.Where(s => s.State == SegmentState.Open).OrderBy(s => s.Sequence))
        {
            SegmentRecords records = ReadRecords(device, superblock, segment, window);
            damaged += records.Damaged;
            maxSequence = Math.Max(maxSequence, records.MaxSequence);
            segment.WriteOffsetBytes = records.WriteOffsetBytes;
            if (records.Sealed)
            {
                segment.State = SegmentState.Sealed;
            }
            else
            {
                unsealed[segment] = records.Entries;
            }

            long segmentStart = SegmentStart(superblock, segment.Index);
            foreach (SummaryEntry entry in records.Entries)
            {
                segment.TombstoneCount += entry.Kind == RecordKind.Tombstone ? 1 : 0;
                if (Apply(index, deleted, entry, segmentStart + (entry.Block * (long)BlockBytes)))
                {
                    deadPuts[entry.Id] = deadPuts.GetValueOrDefault(entry.Id) + 1;
                }
            }
        }

        // Only the newest unsealed segment takes appends; an older one lost its seal (torn, or damage
        // before it) and is treated as sealed so compaction can reclaim it.
        Segment? head = unsealed.Keys.MaxBy(s => s.Sequence);
        foreach (Segment segment in unsealed.Keys.Where(s => s != head))
        {
            segment.State = SegmentState.Sealed;
        }

        List<SummaryEntry> headEntries = head is null ? [] : unsealed[head];
        return new BlobStore(device, superblock, options, segments, index, deadPuts, headEntries, maxSequence + 1, maxSegmentSequence, damaged);
    }

    /// <summary>Replays one record into the index; true when that leaves one more dead put record of its blob on the device.</summary>
    private static bool Apply(Dictionary<BlobId, Location> index, Dictionary<BlobId, ulong> deleted, SummaryEntry entry, long offset)
    {
        bool indexed = index.TryGetValue(entry.Id, out Location current);
        ulong newest = Math.Max(indexed ? current.Sequence : 0, deleted.GetValueOrDefault(entry.Id));
        // Equal sequence: a compaction copy in a newer segment (segments replay oldest first) replaces the original.
        if (entry.Sequence < newest)
        {
            return entry.Kind == RecordKind.Put; // an older put: dead from the start
        }

        if (entry.Kind == RecordKind.Put)
        {
            index[entry.Id] = new Location(offset, entry.Sequence, (uint)entry.PayloadLengthBytes, entry.PayloadCrc);
        }
        else
        {
            index.Remove(entry.Id);
            deleted[entry.Id] = entry.Sequence;
        }

        return indexed; // the put it replaced or deleted is dead now
    }

    /// <summary>What one segment in use holds, in log order; <c>WriteOffsetBytes</c> is where its last record ends.</summary>
    private sealed record SegmentRecords(List<SummaryEntry> Entries, bool Sealed, long WriteOffsetBytes, ulong MaxSequence, int Damaged);

    /// <summary>
    /// The records of <paramref name="segment"/>: from its summary when it is sealed and the summary is
    /// intact, else by scanning its blocks (the head, a segment that lost its seal, a damaged summary).
    /// </summary>
    private static SegmentRecords ReadRecords(IBlockDevice device, Superblock superblock, Segment segment, AlignedBuffer buffer)
    {
        long segmentStart = SegmentStart(superblock, segment.Index);
        long sealOffset = superblock.SegmentSizeBytes - BlockBytes;
        Span<byte> block = buffer.Span[..BlockBytes];
        device.Read(segmentStart + sealOffset, block);
        if (RecordHeader.TryRead(block, superblock.Salt, out RecordHeader seal)
            && seal.Kind == RecordKind.Seal
            && seal.SegmentSequence == segment.Sequence
            && seal.PayloadLengthBytes % BlockBytes == 0
            && seal.PayloadLengthBytes <= sealOffset - BlockBytes)
        {
            long summaryOffset = sealOffset - seal.PayloadLengthBytes;
            List<SummaryEntry>? entries = TryReadSummary(device, superblock, segmentStart + summaryOffset, seal, buffer);
            if (entries is not null)
            {
                ulong max = entries.Count == 0 ? seal.Sequence : Math.Max(seal.Sequence, entries.Max(e => e.Sequence));
                long end = entries.Count == 0 ? BlockBytes : entries.Max(e => (e.Block + RecordHeader.BlocksFor(e.PayloadLengthBytes, BlockBytes)) * BlockBytes);
                return new SegmentRecords(entries, Sealed: true, end, max, Damaged: 0);
            }

            SegmentRecords scanned = Scan(device, superblock, segment, buffer, summaryOffset);
            return scanned with { Sealed = true, MaxSequence = Math.Max(scanned.MaxSequence, seal.Sequence), Damaged = scanned.Damaged + 1 };
        }

        return Scan(device, superblock, segment, buffer, sealOffset);
    }

    private static List<SummaryEntry>? TryReadSummary(IBlockDevice device, Superblock superblock, long summaryStart, RecordHeader seal, AlignedBuffer buffer)
    {
        var entries = new List<SummaryEntry>();
        long segmentBlocks = superblock.SegmentSizeBytes / BlockBytes;
        uint crc = ~0u;
        bool ended = false;
        for (long done = 0; done < seal.PayloadLengthBytes;)
        {
            int length = (int)Math.Min(buffer.LengthBytes, seal.PayloadLengthBytes - done);
            Span<byte> chunk = buffer.Span[..length];
            device.Read(summaryStart + done, chunk);
            crc = Crc32C.Append(crc, chunk);
            for (int at = 0; at < length && !ended; at += BlockBytes)
            {
                for (int slot = 0; slot < SegmentSummary.EntriesPerBlock; slot++)
                {
                    ReadOnlySpan<byte> raw = chunk.Slice(at + (slot * SegmentSummary.EntryBytes), SegmentSummary.EntryBytes);
                    if (SegmentSummary.IsEnd(raw))
                    {
                        ended = true;
                        break;
                    }

                    if (!SegmentSummary.TryRead(raw, segmentBlocks, out SummaryEntry entry))
                    {
                        return null;
                    }

                    entries.Add(entry);
                }
            }

            done += length;
        }

        return ~crc == seal.PayloadCrc ? entries : null;
    }

    /// <summary>Walks the records of <paramref name="segment"/> that end at or before <paramref name="limit"/>.</summary>
    private static SegmentRecords Scan(IBlockDevice device, Superblock superblock, Segment segment, AlignedBuffer buffer, long limit)
    {
        var window = new SegmentWindow(device, buffer, SegmentStart(superblock, segment.Index));
        var entries = new List<SummaryEntry>();
        long offset = BlockBytes;
        long writeOffset = BlockBytes;
        ulong maxSequence = 0;
        int damaged = 0;
        var damagedAt = new List<long>();
        var wholeAtTail = new List<(RecordHeader Header, long Offset, int Entry)>();
        while (offset < limit)
        {
            ReadOnlySpan<byte> block = window.Block(offset, limit);
            if (!IsRecordOf(segment, superblock, block, offset, limit, out RecordHeader header))
            {
                // Appends are sequential and a new segment starts discarded (zeros): a blank block is
                // where the log ends. Anything else (a torn or damaged header) may hide later
                // acknowledged records, so the rest of the segment is searched for them.
                if (!block.ContainsAnyExcept((byte)0))
                {
                    break;
                }

                long next = Resync(window, superblock, segment, offset + BlockBytes, limit);
                if (next < 0)
                {
                    break; // the log tail: a write that never completed
                }

                damaged++;
                damagedAt.Add(offset);
                offset = next;
                continue;
            }

            maxSequence = Math.Max(maxSequence, header.Sequence);
            if (header.Flags.HasFlag(RecordFlags.WrittenWhole))
            {
                wholeAtTail.Add((header, offset, entries.Count));
            }

            entries.Add(SummaryEntry.Of(header, (uint)(offset / BlockBytes)));
            offset += RecordHeader.BlocksFor(header.PayloadLengthBytes, BlockBytes) * BlockBytes;
            writeOffset = offset;
        }

        // Writes are serialized and durable on return, so only the last write can be a torn one: the
        // last record, or the last batch of small puts (one write in which the device may have
        // persisted some blocks and not others). Every record of a batch names the batch's extent, so
        // the final batch is known from any intact record of it. The log is cut at its first defect
        // (a missing or damaged record, a torn payload): what follows was written by the same
        // unacknowledged write, and the next append overwrites it, so a torn record can never be
        // found again by a later scan. A damaged block inside it is the tear, not damage. Older
        // records are left to the read path, which reports real damage as a checksum error.
        long segmentStart = SegmentStart(superblock, segment.Index);
        if (wholeAtTail.LastOrDefault(w => w.Header.BatchBlocksAfter > 0) is { Header.BatchBlocksAfter: > 0 } finalBatched)
        {
            long batchStart = finalBatched.Offset - (finalBatched.Header.BatchBlocksBefore * BlockBytes);
            long batchEnd = finalBatched.Offset + (finalBatched.Header.BatchBlocksAfter * BlockBytes);
            long cut = writeOffset <= batchEnd ? FirstDefect(device, segmentStart, wholeAtTail, batchStart, batchEnd, buffer) : batchEnd;
            if (cut < batchEnd)
            {
                entries = [.. entries.Where(e => e.Block * (long)BlockBytes < cut)];
                writeOffset = cut;
                damaged -= damagedAt.Count(at => at >= batchStart && at < batchEnd);
                return new SegmentRecords(entries, Sealed: false, writeOffset, maxSequence, damaged);
            }
        }

        if (wholeAtTail.Count > 0 && wholeAtTail[^1] is var (lastHeader, lastOffset, lastEntry)
            && lastEntry == entries.Count - 1 && lastHeader.BatchBlocksAfter == 0
            && !PayloadIntact(device, segmentStart + lastOffset, lastHeader, buffer))
        {
            entries.RemoveAt(entries.Count - 1);
            writeOffset = lastOffset;
        }

        return new SegmentRecords(entries, Sealed: false, writeOffset, maxSequence, damaged);
    }

    /// <summary>Where the batch written to [start, end) stops being whole: the first record missing or torn, or <paramref name="end"/>.</summary>
    private static long FirstDefect(IBlockDevice device, long segmentStart, List<(RecordHeader Header, long Offset, int Entry)> whole, long start, long end, AlignedBuffer buffer)
    {
        long next = start;
        foreach ((RecordHeader header, long at, _) in whole.Where(w => w.Offset >= start && w.Offset < end))
        {
            if (at != next || !PayloadIntact(device, segmentStart + at, header, buffer))
            {
                return next;
            }

            next = at + (RecordHeader.BlocksFor(header.PayloadLengthBytes, BlockBytes) * BlockBytes);
        }

        return next;
    }

    private static bool PayloadIntact(IBlockDevice device, long recordStart, RecordHeader header, AlignedBuffer buffer)
    {
        long recordBytes = RecordHeader.BlocksFor(header.PayloadLengthBytes, BlockBytes) * BlockBytes;
        uint crc = ~0u;
        long payloadSeen = 0;
        for (long done = 0; done < recordBytes;)
        {
            int length = (int)Math.Min(buffer.LengthBytes, recordBytes - done);
            device.Read(recordStart + done, buffer.Span[..length]);
            int from = done == 0 ? RecordHeader.SizeBytes : 0;
            int take = (int)Math.Min(length - from, header.PayloadLengthBytes - payloadSeen);
            crc = Crc32C.Append(crc, buffer.Span.Slice(from, take));
            payloadSeen += take;
            done += length;
        }

        return ~crc == header.PayloadCrc;
    }

    /// <summary>A put or tombstone of this use of the segment, ending at or before <paramref name="limit"/>.</summary>
    private static bool IsRecordOf(Segment segment, Superblock superblock, ReadOnlySpan<byte> block, long offset, long limit, out RecordHeader header) =>
        RecordHeader.TryRead(block, superblock.Salt, out header)
        && header.SegmentSequence == segment.Sequence
        && header.Kind is RecordKind.Put or RecordKind.Tombstone
        && header.PayloadLengthBytes < superblock.SegmentSizeBytes
        && offset + (RecordHeader.BlocksFor(header.PayloadLengthBytes, BlockBytes) * BlockBytes) <= limit;

    /// <summary>Finds the next valid record of <paramref name="segment"/> at or after <paramref name="from"/>; -1 if none.</summary>
    private static long Resync(SegmentWindow window, Superblock superblock, Segment segment, long from, long limit)
    {
        for (long offset = from; offset < limit; offset += BlockBytes)
        {
            if (IsRecordOf(segment, superblock, window.Block(offset, limit), offset, limit, out _))
            {
                return offset;
            }
        }

        return -1;
    }

    private static Superblock ReadSuperblock(IBlockDevice device)
    {
        using var block = new AlignedBuffer(Superblock.SizeBytes);
        Superblock? best = null;
        string? firstProblem = null;
        for (int slot = 0; slot < 2; slot++)
        {
            device.Read(slot * Superblock.SizeBytes, block.Span);
            Superblock? candidate = Superblock.TryRead(block.Span, out string? problem);
            firstProblem ??= problem;
            if (candidate is not null && (best is null || candidate.Generation > best.Generation))
            {
                best = candidate;
            }
        }

        return best ?? throw new StorageCorruptException($"{device.Description} holds no valid o3storage superblock ({firstProblem}): not formatted, or damaged");
    }

    private static long SegmentStart(Superblock superblock, int index) => superblock.DataStartBytes + (index * superblock.SegmentSizeBytes);
}
