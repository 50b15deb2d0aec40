namespace O3Storage.Storage;

public sealed record BlobStoreOptions
{
    /// <summary>
    /// 128 MiB: large sequential writes suit flash, and a segment holds the largest blob (a 64 MiB part
    /// with room to spare). The object layer splits bigger objects into blobs.
    /// </summary>
    public long SegmentSizeBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>Where segments start: leaves room for the superblocks and future checkpoints.</summary>
    public long DataStartBytes { get; init; } = 1024 * 1024;

    /// <summary>Size of one streaming IO: bounds memory per operation.</summary>
    public int IoChunkBytes { get; init; } = 1024 * 1024;
}
