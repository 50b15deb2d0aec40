namespace O3Storage.Storage;

/// <summary>What the store knows of one blob without reading it.</summary>
public sealed record BlobInfo(BlobId Id, long LengthBytes, uint Crc32C, ulong Sequence);

/// <summary>Space and count figures for /health's <c>.storage</c>.</summary>
public sealed record StorageStats(
    long TotalObjects,
    long UsedSpaceBytes,
    long CapacityBytes,
    long FreeSpaceBytes,
    string Device,
    bool DirectIo,
    int DamagedRecords);

/// <summary>What one step of background compaction did.</summary>
/// <param name="BytesCopied">Live record bytes moved to the head.</param>
/// <param name="SegmentFreed">The victim was drained and freed (discarded).</param>
/// <param name="Idle">No segment is worth compacting now.</param>
public readonly record struct CompactionProgress(long BytesCopied, bool SegmentFreed, bool Idle);
