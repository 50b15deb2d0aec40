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
