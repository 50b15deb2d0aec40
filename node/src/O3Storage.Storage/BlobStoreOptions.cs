namespace O3Storage.Storage;

public sealed record BlobStoreOptions
{
    /// <summary>
    /// 132 MiB: large sequential writes suit flash, and a segment holds two 64 MiB blobs (the object
    /// layer's largest) with their headers, start, summary and seal: at exactly 128 MiB the second would
    /// miss by 20 KiB and half of every segment would go unused. 132 = 33 x 4 MiB keeps segments aligned
    /// to SD and eMMC erase blocks.
    /// with room to spare). The object layer splits bigger objects into blobs.
    /// </summary>
    public long SegmentSizeBytes { get; init; } = 132L * 1024 * 1024;

    /// <summary>Where segments start: after the superblocks, on a 4 MiB (erase block) boundary.</summary>
    public long DataStartBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Size of one streaming IO: bounds memory per operation.</summary>
    public int IoChunkBytes { get; init; } = 1024 * 1024;
}
