// Owns: the log-structured blob store on one device: the segment log, the in-memory index from blob
// id to record location, and the write path. Layout and recovery are documented in docs/storage-format.md.
// Assumes: one BlobStore per device (the device holds an exclusive lock); writes are serialized here.
// Faults: a put that fails part-way (client gone, short stream, IO error) leaves no record: its header
// block, written last, is what makes a record exist. A full device throws StorageFullException before
// anything is written. A damaged record is skipped at recovery and counted, never served.
using O3Storage.Storage.Devices;
using O3Storage.Storage.Format;

namespace O3Storage.Storage;

public sealed partial class BlobStore : IDisposable
{
    internal const int BlockBytes = Superblock.BlockSizeBytes;

    /// <summary>Segments kept free for deletes and compaction: a full store can always delete and reclaim.</summary>
    internal const int ReservedSegments = 1;

    private readonly IBlockDevice _device;
    private readonly Superblock _superblock;
    private readonly BlobStoreOptions _options;
    private readonly Segment[] _segments;
    private readonly Dictionary<BlobId, Location> _index;
    private readonly object _lock = new();
    private readonly AlignedBuffer _headerBlock;
    private readonly AlignedBuffer _chunk;
    private readonly AlignedBufferPool _readBuffers;
    private Segment? _head;
    private ulong _nextSequence;
    private ulong _nextSegmentSequence;
    private long _usedBytes;
    private bool _compacting;

    // Superseded or deleted put records still on the device, per blob: a tombstone must survive
    // compaction exactly while its blob has one (else recovery could resurrect that old put).
    private readonly Dictionary<BlobId, int> _deadPuts;
    private int _damagedRecords;

    // The head's records in log order: written out as its summary when it is sealed.
    private readonly List<SummaryEntry> _headEntries;

    // Background compaction's victim while it is drained step by step, and its live records still to move.
    private readonly Queue<(BlobId Id, Location Location)> _victimLive = new();
    private Segment? _victim;
    private ulong _victimSequence;

    private BlobStore(IBlockDevice device, Superblock superblock, BlobStoreOptions options, Segment[] segments, Dictionary<BlobId, Location> index, Dictionary<BlobId, int> deadPuts, List<SummaryEntry> headEntries, ulong nextSequence, ulong nextSegmentSequence, int damagedRecords)
    {
        _deadPuts = deadPuts;
        _headEntries = headEntries;
        _device = device;
        _superblock = superblock;
        _options = options;
        _segments = segments;
        _index = index;
        _nextSequence = nextSequence;
        _nextSegmentSequence = nextSegmentSequence;
        _damagedRecords = damagedRecords;
        _headerBlock = new AlignedBuffer(BlockBytes);
        // One chunk plus a block: a record of up to one chunk of payload is written and read in one IO.
        _chunk = new AlignedBuffer(options.IoChunkBytes + BlockBytes);
        _readBuffers = new AlignedBufferPool(options.IoChunkBytes + BlockBytes, keep: 4);
        _head = segments.Where(s => s.State == SegmentState.Open).MaxBy(s => s.Sequence);
        foreach (Location location in index.Values)
        {
            segments[SegmentOf(superblock, location)].LiveBytes += location.RecordBytes;
            _usedBytes += location.RecordBytes;
        }
    }

    public Guid DeviceUuid => _superblock.DeviceUuid;

    public Guid NodeUuid => _superblock.NodeUuid;

    public Guid ClusterUuid => _superblock.ClusterUuid;

    /// <summary>Records found damaged: at recovery (a bad header followed by valid records) or by compaction.</summary>
    public int DamagedRecords => Volatile.Read(ref _damagedRecords);

    /// <summary>The largest blob a single record can hold: a segment less its start, summary and seal blocks.</summary>
    public long BlobSizeBytesMax => _superblock.SegmentSizeBytes - (3 * BlockBytes) - RecordHeader.SizeBytes;

    private long SegmentBlocks => _superblock.SegmentSizeBytes / BlockBytes;

    /// <summary>Writes a fresh, empty store onto <paramref name="device"/>; everything on it is forgotten.</summary>
    public static BlobStore Format(IBlockDevice device, Guid nodeUuid, Guid clusterUuid, BlobStoreOptions? options = null)
    {
        options ??= new BlobStoreOptions();
        CheckDevice(device);
        if (options.SegmentSizeBytes % BlockBytes != 0 || options.SegmentSizeBytes < 4 * BlockBytes || options.SegmentSizeBytes > Superblock.SegmentSizeBytesMax)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.SegmentSizeBytes, "segment size must be a multiple of 4096 from 16 KiB to 2 GiB");
        }

        long segments = (device.CapacityBytes - options.DataStartBytes) / options.SegmentSizeBytes;
        if (segments < 2)
        {
            throw new DeviceException($"{device.Description} is too small: it needs room for at least two {options.SegmentSizeBytes}-byte segments after {options.DataStartBytes} bytes");
        }

        var superblock = new Superblock(
            Generation: 1,
            DeviceUuid: Guid.NewGuid(),
            nodeUuid,
            clusterUuid,
            options.SegmentSizeBytes,
            (int)Math.Min(segments, int.MaxValue),
            Salt: (uint)Random.Shared.Next() | 1u,
            options.DataStartBytes,
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        using (var block = new AlignedBuffer(Superblock.SizeBytes))
        {
            // Both copies: a torn write of either later still leaves the other one readable.
            (superblock with { Generation = 0 }).WriteTo(block.Span);
            device.Write(0, block.Span);
            superblock.WriteTo(block.Span);
            device.Write(Superblock.SizeBytes, block.Span);
        }

        device.Discard(options.DataStartBytes, superblock.SegmentSizeBytes * superblock.SegmentCount);
        return Open(device, options);
    }

    public BlobInfo Put(BlobId id, ReadOnlySpan<byte> content)
    {
        using var stream = new MemoryStream(content.ToArray(), writable: false);
        return Put(id, stream, content.Length);
    }

    /// <summary>
    /// Stores exactly <paramref name="lengthBytes"/> bytes read from <paramref name="content"/> under
    /// <paramref name="id"/>, replacing any earlier blob of that id. Durable when it returns.
    /// </summary>
    public BlobInfo Put(BlobId id, Stream content, long lengthBytes)
    {
        if (id.Value == UInt128.Zero)
        {
            throw new ArgumentException("blob id 0 is reserved", nameof(id));
        }

        if (lengthBytes < 0 || lengthBytes > BlobSizeBytesMax)
        {
            throw new ArgumentOutOfRangeException(nameof(lengthBytes), lengthBytes, $"a blob holds 0 to {BlobSizeBytesMax} bytes");
        }

        long blocks = RecordHeader.BlocksFor(lengthBytes, BlockBytes);
        lock (_lock)
        {
            Segment head = EnsureHeadHasRoom(blocks, mayUseReserve: false);
            long recordOffset = SegmentOffset(head) + head.WriteOffsetBytes;
            RecordHeader header = blocks * BlockBytes <= _chunk.LengthBytes
                ? WriteWhole(id, content, lengthBytes, head, recordOffset, blocks)
                : WriteHeaderLast(id, content, lengthBytes, head, recordOffset);
            Appended(head, header, recordOffset, blocks);
            var location = new Location(recordOffset, header.Sequence, (uint)lengthBytes, header.PayloadCrc);
            Replace(id, location);
            return location.ToInfo(id);
        }
    }

    /// <summary>
    /// A record of up to one chunk goes to the device in one write: one durable IO per small put. A
    /// power cut may tear it, so recovery verifies the payload of such a record at the log tail.
    /// </summary>
    private RecordHeader WriteWhole(BlobId id, Stream content, long lengthBytes, Segment head, long recordOffset, long blocks)
    {
        Span<byte> record = _chunk.Span[..(int)(blocks * BlockBytes)];
        Span<byte> payload = record.Slice(RecordHeader.SizeBytes, (int)lengthBytes);
        ReadExactly(content, payload, 0, lengthBytes);
        record[(RecordHeader.SizeBytes + (int)lengthBytes)..].Clear();
        var header = new RecordHeader(RecordKind.Put, _nextSequence++, id, lengthBytes, Crc32C.Compute(payload), head.Sequence, RecordFlags.WrittenWhole);
        header.WriteTo(record, _superblock.Salt);
        _device.Write(recordOffset, record);
        return header;
    }

    /// <summary>A larger record: payload blocks first, then the header block, so the record exists only once all of it is durable.</summary>
    private RecordHeader WriteHeaderLast(BlobId id, Stream content, long lengthBytes, Segment head, long recordOffset)
    {
        Span<byte> headerBlock = _headerBlock.Span;
        headerBlock.Clear();

        // The header block carries the first payload bytes; it is written last, after the rest is durable.
        int inHeader = (int)Math.Min(lengthBytes, BlockBytes - RecordHeader.SizeBytes);
        ReadExactly(content, headerBlock.Slice(RecordHeader.SizeBytes, inHeader), 0, lengthBytes);
        uint crc = Crc32C.Append(~0u, headerBlock.Slice(RecordHeader.SizeBytes, inHeader));

        long written = inHeader;
        long dataOffset = recordOffset + BlockBytes;
        Span<byte> chunk = _chunk.Span;
        while (written < lengthBytes)
        {
            int take = (int)Math.Min(chunk.Length, lengthBytes - written);
            ReadExactly(content, chunk[..take], written, lengthBytes);
            crc = Crc32C.Append(crc, chunk[..take]);
            int padded = Align(take);
            chunk[take..padded].Clear();
            _device.WriteUnsynced(dataOffset, chunk[..padded]);
            dataOffset += padded;
            written += take;
        }

        if (written > inHeader)
        {
            _device.Flush(); // the payload is durable before the header that makes it a record
        }

        var header = new RecordHeader(RecordKind.Put, _nextSequence++, id, lengthBytes, ~crc, head.Sequence);
        header.WriteTo(headerBlock, _superblock.Salt);
        _device.Write(recordOffset, headerBlock);
        return header;
    }

    /// <summary>
    /// The most bytes one batch of small puts puts on the device in one write: recovery verifies the
    /// payload of every written-whole record this close to a segment's log tail (see Scan).
    /// </summary>
    public const int BatchBytesMax = (1024 * 1024) + BlockBytes;

    /// <summary>The device bytes a blob of <paramref name="lengthBytes"/> takes: its header and payload, in whole blocks.</summary>
    public static long RecordBytes(long lengthBytes) => RecordHeader.BlocksFor(lengthBytes, BlockBytes) * BlockBytes;

    /// <summary>Whether <paramref name="lengthBytes"/> of payload makes a record that may join a batch.</summary>
    public bool Batchable(long lengthBytes) =>
        lengthBytes >= 0 && RecordHeader.BlocksFor(lengthBytes, BlockBytes) * BlockBytes <= Math.Min(BatchBytesMax, _chunk.LengthBytes);

    /// <summary>
    /// Stores several small blobs with one device write (group commit): one durable IO for the lot
    /// instead of one each. Every record is written whole, so a power cut during the write leaves any
    /// of them torn; recovery checks them all. Durable when it returns; all or none are stored.
    /// </summary>
    /// <exception cref="ArgumentException">A blob is not <see cref="Batchable"/>, or together they exceed one batch.</exception>
    public IReadOnlyList<BlobInfo> PutBatch(IReadOnlyList<(BlobId Id, ReadOnlyMemory<byte> Content)> puts)
    {
        long totalBlocks = 0;
        foreach ((BlobId id, ReadOnlyMemory<byte> content) in puts)
        {
            if (id.Value == UInt128.Zero || !Batchable(content.Length))
            {
                throw new ArgumentException($"blob {id} ({content.Length} bytes) cannot join a batch", nameof(puts));
            }

            totalBlocks += RecordHeader.BlocksFor(content.Length, BlockBytes);
        }

        if (totalBlocks * BlockBytes > Math.Min(BatchBytesMax, _chunk.LengthBytes))
        {
            throw new ArgumentException($"a batch holds at most {BatchBytesMax} bytes of records", nameof(puts));
        }

        lock (_lock)
        {
            Segment head = EnsureHeadHasRoom(totalBlocks, mayUseReserve: false, records: puts.Count);
            long batchOffset = SegmentOffset(head) + head.WriteOffsetBytes;
            var headers = new RecordHeader[puts.Count];
            int at = 0;
            for (int i = 0; i < puts.Count; i++)
            {
                (BlobId id, ReadOnlyMemory<byte> content) = puts[i];
                int recordBytes = (int)(RecordHeader.BlocksFor(content.Length, BlockBytes) * BlockBytes);
                Span<byte> record = _chunk.Span.Slice(at, recordBytes);
                content.Span.CopyTo(record[RecordHeader.SizeBytes..]);
                record[(RecordHeader.SizeBytes + content.Length)..].Clear();
                // Each record names its batch's extent, so recovery can find the whole final write from any intact record of it.
                uint before = (uint)(at / BlockBytes);
                headers[i] = new RecordHeader(RecordKind.Put, _nextSequence++, id, content.Length, Crc32C.Compute(content.Span), head.Sequence, RecordFlags.WrittenWhole | RecordFlags.Batched, before, (uint)totalBlocks - before);
                headers[i].WriteTo(record, _superblock.Salt);
                at += recordBytes;
            }

            _device.Write(batchOffset, _chunk.Span[..at]);
            var stored = new BlobInfo[puts.Count];
            long offset = batchOffset;
            for (int i = 0; i < puts.Count; i++)
            {
                long blocks = RecordHeader.BlocksFor(headers[i].PayloadLengthBytes, BlockBytes);
                Appended(head, headers[i], offset, blocks);
                var location = new Location(offset, headers[i].Sequence, (uint)headers[i].PayloadLengthBytes, headers[i].PayloadCrc);
                Replace(puts[i].Id, location);
                stored[i] = location.ToInfo(puts[i].Id);
                offset += blocks * BlockBytes;
            }

            return stored;
        }
    }

    /// <summary>Deletes <paramref name="id"/>; false when it did not exist. Durable when it returns.</summary>
    public bool Delete(BlobId id)
    {
        lock (_lock)
        {
            if (!_index.ContainsKey(id))
            {
                return false;
            }

            Segment head = EnsureHeadHasRoom(1, mayUseReserve: true);
            long offset = SegmentOffset(head) + head.WriteOffsetBytes;
            Span<byte> block = _headerBlock.Span;
            block.Clear();
            var tombstone = new RecordHeader(RecordKind.Tombstone, _nextSequence++, id, 0, 0, head.Sequence);
            tombstone.WriteTo(block, _superblock.Salt);
            _device.Write(offset, block);
            Appended(head, tombstone, offset, 1);
            Replace(id, null);
            return true;
        }
    }

    public bool TryStat(BlobId id, out BlobInfo? info)
    {
        lock (_lock)
        {
            info = _index.TryGetValue(id, out Location location) ? location.ToInfo(id) : null;
            return info is not null;
        }
    }

    /// <summary>All blobs, in no particular order; a snapshot taken under the lock.</summary>
    public IReadOnlyList<BlobInfo> List()
    {
        lock (_lock)
        {
            return _index.Select(entry => entry.Value.ToInfo(entry.Key)).ToList();
        }
    }

    /// <summary>A stream over the blob; its checksum is verified when the last byte is read.</summary>
    /// <exception cref="BlobNotFoundException">No such blob.</exception>
    public Stream OpenRead(BlobId id)
    {
        Location location;
        lock (_lock)
        {
            if (!_index.TryGetValue(id, out location))
            {
                throw new BlobNotFoundException(id);
            }
        }

        return new BlobReadStream(_device, id, location, _superblock.Salt, _readBuffers);
    }

    /// <summary>Reads a whole blob into memory, checksum verified before it returns.</summary>
    public byte[] ReadAll(BlobId id)
    {
        using Stream stream = OpenRead(id);
        var result = new byte[stream.Length];
        stream.ReadExactly(result);
        if (stream.ReadByte() != -1)
        {
            throw new InvalidOperationException("blob stream longer than its length");
        }

        return result;
    }

    /// <summary>Reads every blob and verifies its checksum (fsck); the ids that failed.</summary>
    public IReadOnlyList<(BlobId Id, string Problem)> Verify()
    {
        var problems = new List<(BlobId, string)>();
        foreach (BlobInfo blob in List())
        {
            try
            {
                using Stream stream = OpenRead(blob.Id);
                stream.CopyTo(Stream.Null, _options.IoChunkBytes);
            }
            catch (ChecksumMismatchException e)
            {
                problems.Add((blob.Id, e.Message));
            }
        }

        return problems;
    }

    public StorageStats Stats()
    {
        lock (_lock)
        {
            // Garbage counts as free: compaction reclaims it when space is needed. The reserve does not.
            long capacity = _superblock.SegmentSizeBytes * _superblock.SegmentCount;
            long free = Math.Max(0, capacity - _usedBytes - (ReservedSegments * _superblock.SegmentSizeBytes));
            return new StorageStats(_index.Count, _usedBytes, capacity, free, _device.Description, _device.DirectIo, DamagedRecords);
        }
    }

    public void Dispose()
    {
        _headerBlock.Dispose();
        _chunk.Dispose();
        _readBuffers.Dispose();
    }

    private Segment EnsureHeadHasRoom(long blocks, bool mayUseReserve, int records = 1)
    {
        // Room stays at the end of the head for its summary (including these records) and its seal.
        if (_head is not null && (_head.WriteOffsetBytes / BlockBytes) + blocks + SegmentSummary.BlocksFor(_headEntries.Count + records) + 1 <= SegmentBlocks)
        {
            return _head;
        }

        if (!_compacting && FreeSegments() <= ReservedSegments)
        {
            Compact();
        }

        int free = FreeSegments();
        if (free == 0 || (free <= ReservedSegments && !mayUseReserve))
        {
            throw new StorageFullException(
                $"no free segment left on {_device.Description}: {_index.Count} blobs use {_usedBytes} of {_superblock.SegmentSizeBytes * _superblock.SegmentCount} bytes");
        }

        Segment next = _segments.First(s => s.State == SegmentState.Free);
        if (_head is not null)
        {
            Seal(_head);
            _head = null; // sealed: should starting the next segment fail, nothing may append here
        }

        Span<byte> block = _headerBlock.Span;
        next.Sequence = _nextSegmentSequence++;
        block.Clear();
        new RecordHeader(RecordKind.SegmentStart, _nextSequence++, default, 0, 0, next.Sequence).WriteTo(block, _superblock.Salt);
        _device.Write(SegmentOffset(next), block);
        next.State = SegmentState.Open;
        next.WriteOffsetBytes = BlockBytes;
        _head = next;
        return next;
    }

    /// <summary>Accounts for a record just written at <paramref name="offsetBytes"/> in the head.</summary>
    private void Appended(Segment head, RecordHeader header, long offsetBytes, long blocks)
    {
        _headEntries.Add(SummaryEntry.Of(header, (uint)((offsetBytes - SegmentOffset(head)) / BlockBytes)));
        head.WriteOffsetBytes += blocks * BlockBytes;
        if (header.Kind == RecordKind.Tombstone)
        {
            head.TombstoneCount++;
        }
    }

    /// <summary>Writes the head's summary into the blocks before its last one, then the seal record into that last block.</summary>
    private void Seal(Segment head)
    {
        long summaryBytes = SegmentSummary.BlocksFor(_headEntries.Count) * BlockBytes;
        long sealOffset = SegmentOffset(head) + _superblock.SegmentSizeBytes - BlockBytes;
        long summaryOffset = sealOffset - summaryBytes;
        Span<byte> chunk = _chunk.Span;
        uint crc = ~0u;
        int next = 0;
        for (long done = 0; done < summaryBytes;)
        {
            int length = (int)Math.Min(chunk.Length, summaryBytes - done);
            chunk[..length].Clear();
            for (; next < _headEntries.Count; next++)
            {
                (long entryBlock, int at) = SegmentSummary.Position(next);
                long position = (entryBlock * BlockBytes) - done + at;
                if (position >= length)
                {
                    break;
                }

                SegmentSummary.Write(_headEntries[next], chunk[(int)position..]);
            }

            crc = Crc32C.Append(crc, chunk[..length]);
            _device.WriteUnsynced(summaryOffset + done, chunk[..length]);
            done += length;
        }

        // The seal goes last: until it is on the device the summary does not count and recovery scans.
        if (summaryBytes > 0)
        {
            _device.Flush();
        }

        Span<byte> block = _headerBlock.Span;
        block.Clear();
        new RecordHeader(RecordKind.Seal, _nextSequence++, default, summaryBytes, ~crc, head.Sequence).WriteTo(block, _superblock.Salt);
        _device.Write(sealOffset, block);
        head.State = SegmentState.Sealed;
        _headEntries.Clear();
    }

    private int FreeSegments() => _segments.Count(s => s.State == SegmentState.Free);

    private void Replace(BlobId id, Location? location, bool previousStaysOnDevice = true)
    {
        if (_index.Remove(id, out Location previous))
        {
            _segments[SegmentOf(_superblock, previous)].LiveBytes -= previous.RecordBytes;
            _usedBytes -= previous.RecordBytes;
            if (previousStaysOnDevice)
            {
                _deadPuts[id] = _deadPuts.GetValueOrDefault(id) + 1;
            }
        }

        if (location is { } added)
        {
            _index[id] = added;
            _segments[SegmentOf(_superblock, added)].LiveBytes += added.RecordBytes;
            _usedBytes += added.RecordBytes;
        }
    }

    private long SegmentOffset(Segment segment) => _superblock.DataStartBytes + (segment.Index * _superblock.SegmentSizeBytes);

    private static int Align(int bytes) => (bytes + BlockBytes - 1) / BlockBytes * BlockBytes;

    private static void ReadExactly(Stream content, Span<byte> destination, long alreadyRead, long expected)
    {
        int read = content.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        if (read < destination.Length)
        {
            throw new EndOfStreamException($"content ended after {alreadyRead + read} of {expected} bytes; nothing was stored");
        }
    }

    private static void CheckDevice(IBlockDevice device)
    {
        if (BlockBytes % device.AlignmentBytes != 0)
        {
            throw new DeviceException($"{device.Description} needs {device.AlignmentBytes}-byte alignment; this format uses {BlockBytes}-byte blocks");
        }
    }

    internal enum SegmentState
    {
        Free,
        Open,
        Sealed,
    }

    internal sealed class Segment(int index)
    {
        public int Index { get; } = index;

        public SegmentState State { get; set; }

        public ulong Sequence { get; set; }

        /// <summary>Next append position, relative to the segment start.</summary>
        public long WriteOffsetBytes { get; set; }

        public long LiveBytes { get; set; }

        /// <summary>Tombstones written in this segment: it may then be compacted only as the oldest segment.</summary>
        public int TombstoneCount { get; set; }
    }

    private static int SegmentOf(Superblock superblock, Location location) =>
        (int)((location.OffsetBytes - superblock.DataStartBytes) / superblock.SegmentSizeBytes);

    /// <summary>
    /// Where a blob's record is: 24 bytes, so the index costs about 52 bytes per blob (with its key and
    /// the dictionary's own fields), 50 MiB per million blobs. Lengths fit 32 bits: segments are under 4 GiB.
    /// </summary>
    internal readonly record struct Location(long OffsetBytes, ulong Sequence, uint Length, uint Crc)
    {
        public long LengthBytes => Length;

        public long RecordBytes => RecordHeader.BlocksFor(LengthBytes, BlockBytes) * BlockBytes;

        public BlobInfo ToInfo(BlobId id) => new(id, LengthBytes, Crc, Sequence);
    }
}
