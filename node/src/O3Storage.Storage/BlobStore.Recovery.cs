// Owns: opening an existing store: choosing the superblock, finding the segments in use, and
// rebuilding the index by replaying their records in segment order.
// Faults survived: a torn superblock write (the other copy is used), a torn record at the log tail
// (it never existed), a damaged record mid-log (skipped by scanning ahead to the next valid header,
// counted in DamagedRecords). A device that is not a store, or is smaller than its superblock says,
// is a StorageCorruptException with the reason, never a crash.
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
        using var scan = new AlignedBuffer(options.IoChunkBytes);
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
        var putRecords = new Dictionary<BlobId, int>();
        int damaged = 0;
        foreach (Segment segment in segments.Where(s => s.State == SegmentState.Open).OrderBy(s => s.Sequence))
        {
            long segmentStart = SegmentStart(superblock, segment.Index);
            long offset = BlockBytes;
            long end = superblock.SegmentSizeBytes - BlockBytes; // the last block is reserved for the seal
            while (offset <= end)
            {
                device.Read(segmentStart + offset, block.Span);
                if (!RecordHeader.TryRead(block.Span, superblock.Salt, out RecordHeader header)
                    || header.SegmentSequence != segment.Sequence
                    || header.Kind == RecordKind.SegmentStart
                    || offset + (RecordHeader.BlocksFor(header.PayloadLengthBytes, BlockBytes) * BlockBytes) > end + (header.Kind == RecordKind.Seal ? BlockBytes : 0))
                {
                    // Appends are sequential and a new segment starts discarded (zeros): a blank block is
                    // where the log ends. Anything else (a torn or damaged header) may hide later
                    // acknowledged records, so the rest of the segment is searched for them.
                    if (!block.Span.ContainsAnyExcept((byte)0))
                    {
                        break;
                    }

                    long next = Resync(device, superblock, segment, segmentStart, offset + BlockBytes, end, scan.Span);
                    if (next < 0)
                    {
                        break; // the log tail: a write that never completed
                    }

                    damaged++;
                    offset = next;
                    continue;
                }

                maxSequence = Math.Max(maxSequence, header.Sequence);
                if (header.Kind == RecordKind.Seal)
                {
                    segment.State = SegmentState.Sealed;
                    offset += BlockBytes;
                    break;
                }

                long recordBytes = RecordHeader.BlocksFor(header.PayloadLengthBytes, BlockBytes) * BlockBytes;
                if (header.Kind == RecordKind.Tombstone)
                {
                    segment.TombstoneCount++;
                }
                else
                {
                    putRecords[header.Id] = putRecords.GetValueOrDefault(header.Id) + 1;
                }

                Apply(index, deleted, header, segment.Index, segmentStart + offset);
                offset += recordBytes;
                segment.WriteOffsetBytes = offset;
            }
        }

        // Only the newest unsealed segment takes appends; an older one lost its seal (torn, or damage
        // before it) and is treated as sealed so compaction can reclaim it.
        Segment? head = segments.Where(s => s.State == SegmentState.Open).MaxBy(s => s.Sequence);
        foreach (Segment segment in segments.Where(s => s.State == SegmentState.Open && s != head))
        {
            segment.State = SegmentState.Sealed;
        }

        var deadPuts = new Dictionary<BlobId, int>();
        foreach ((BlobId id, int count) in putRecords)
        {
            int dead = count - (index.ContainsKey(id) ? 1 : 0);
            if (dead > 0)
            {
                deadPuts[id] = dead;
            }
        }

        return new BlobStore(device, superblock, options, segments, index, deadPuts, maxSequence + 1, maxSegmentSequence, damaged);
    }

    private static void Apply(Dictionary<BlobId, Location> index, Dictionary<BlobId, ulong> deleted, RecordHeader header, int segment, long offset)
    {
        ulong newest = Math.Max(index.TryGetValue(header.Id, out Location current) ? current.Sequence : 0, deleted.GetValueOrDefault(header.Id));
        // Equal sequence: a compaction copy in a newer segment (segments replay oldest first) replaces the original.
        if (header.Sequence < newest)
        {
            return;
        }

        if (header.Kind == RecordKind.Put)
        {
            index[header.Id] = new Location(segment, offset, header.PayloadLengthBytes, header.PayloadCrc, header.Sequence);
        }
        else if (header.Kind == RecordKind.Tombstone)
        {
            index.Remove(header.Id);
            deleted[header.Id] = header.Sequence;
        }
    }

    /// <summary>Finds the next valid record header of <paramref name="segment"/> at or after <paramref name="from"/>; -1 if none.</summary>
    private static long Resync(IBlockDevice device, Superblock superblock, Segment segment, long segmentStart, long from, long end, Span<byte> scan)
    {
        for (long offset = from; offset <= end;)
        {
            int length = (int)Math.Min(scan.Length, end + BlockBytes - offset);
            device.Read(segmentStart + offset, scan[..length]);
            for (int at = 0; at < length; at += BlockBytes)
            {
                if (RecordHeader.TryRead(scan.Slice(at, BlockBytes), superblock.Salt, out RecordHeader header)
                    && header.SegmentSequence == segment.Sequence
                    && header.Kind != RecordKind.SegmentStart)
                {
                    return offset + at;
                }
            }

            offset += length;
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
