using CsCheck;
using O3Storage.Storage.Format;
using O3Storage.Tests.Fuzzing;

namespace O3Storage.Storage.Tests;

/// <summary>
/// Fuzzing (<see cref="Fuzzing"/>) of what the store reads back from a device that may be corrupt, torn or
/// another program's: record headers, segment summaries and superblocks, each in a whole block as the store
/// reads them. The property: a valid value or a refusal (false, or null with the problem), never an exception.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class FormatFuzzTests
{
    private const uint Salt = 0x5eed;

    private static byte[] Block(Action<byte[]> write)
    {
        byte[] block = new byte[RecordHeader.BlockBytes];
        write(block);
        return block;
    }

    private static Gen<byte[]> Blocks(params byte[][] seeds) =>
        Fuzzing.Inputs(seeds).Select(bytes =>
        {
            byte[] block = new byte[RecordHeader.BlockBytes];
            bytes.AsSpan(0, Math.Min(bytes.Length, block.Length)).CopyTo(block);
            return block;
        });

    [Fact]
    public void RecordHeadersAndSummaries()
    {
        var header = new RecordHeader(RecordKind.Put, 42, BlobId.NewRandom(), 1234, 0xfeedbeef, 7);
        byte[] headerBlock = Block(b => header.WriteTo(b, Salt));
        byte[] summaryBlock = Block(b => SegmentSummary.Write(SummaryEntry.Of(header, 3), b));
        Fuzzing.Run(Blocks(headerBlock, summaryBlock), block =>
        {
            if (RecordHeader.TryRead(block, Salt, out RecordHeader read))
            {
                Assert.True(read.PayloadLengthBytes >= 0);
            }

            if (!SegmentSummary.IsEnd(block))
            {
                _ = SegmentSummary.TryRead(block, 256, out _);
            }
        });
    }

    [Fact]
    public void Superblocks()
    {
        var superblock = new Superblock(3, Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), 64L * 1024 * 1024, 16, Salt, 2 * Superblock.SizeBytes, 1_700_000_000_000);
        Fuzzing.Run(Blocks(Block(b => superblock.WriteTo(b))), block =>
        {
            Superblock? read = Superblock.TryRead(block, out string? problem);
            Assert.True(read is not null || problem is not null);
        });
    }
}
